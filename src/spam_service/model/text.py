"""Text normalisation shared by training and serving, so both see the same input."""

import html
import unicodedata


def normalize_text(text: str) -> str:
    """Undo HTML escaping (the SMS Spam Collection keeps `&lt;#&gt;`) and normalise Unicode to NFC."""
    return unicodedata.normalize("NFC", html.unescape(text))
