"""Text normalisation shared by training, the ONNX export and serving, so that all three see the same input.

`normalize_text` is what every model gets (HTML unescaping, NFC). A model trained with `text_normalization:
variables` (params.yaml `model`) also gets `mask_variables`: what changes from one message to the next (digits
of codes, amounts, phone numbers; link paths) is replaced by its shape, so that "482913 is your code" and
"190245 is your code" are one text to the model, and a link reads as scheme, domain words and whether it is
shortened. Training records the mode in the checkpoint's config.json (`TEXT_NORMALIZATION_KEY`) and every
reader builds its `TextNormalizer` from there, so a model is always served with the normalisation it learned.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TEXT_NORMALIZATION_KEY = "text_normalization"  # in the checkpoint's config.json
BASIC = "basic"
VARIABLES = "variables"
NORMALIZATIONS = (BASIC, VARIABLES)

# Shorteners whose path is an opaque code: the path tells nothing, the fact of the shortener does.
SHORTENERS = frozenset(
    "bit.ly tinyurl.com t.co cutt.ly is.gd rb.gy shorturl.at tiny.cc ow.ly goo.gl buff.ly rebrand.ly t.ly "
    "s.id v.gd shorte.st bl.ink lnkd.in".split()
)
_URL = re.compile(
    r"(?P<scheme>https?://)?(?P<host>(?:www\.)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?P<tld>[a-z]{2,24}))"
    r"(?P<path>/[^\s]*?)?(?=[\s,;!?)]|\.(?:\s|$)|$)",
    re.IGNORECASE,
)
_IP_URL = re.compile(r"(?:https?://)?\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/[^\s]*)?")
_DIGIT = re.compile(r"\d")
# A bare "word.word" is a link only with a TLD-like ending; this keeps "e.g." and "9.30" out.
_COMMON_TLDS = frozenset(
    "com net org info biz top xyz online co uk in io app me us ly gl gd at cc site live support help shop store "
    "club link click vip win bid loan work page tk ml ga cf gq ru cn de fr es it nl au ca ie sg ai ws to gov edu "
    "id ph pk bd lk ng za ke".split()
)


def normalize_text(text: str) -> str:
    """Undo HTML escaping (the SMS Spam Collection keeps `&lt;#&gt;`) and normalise Unicode to NFC."""
    return unicodedata.normalize("NFC", html.unescape(text))


def _link(match: re.Match[str]) -> str:
    host = match["host"].lower()
    tld = match["tld"].lower()
    if tld not in _COMMON_TLDS and not match["scheme"] and not match["path"]:
        return match[0]  # "file.txt", "Mr.Lee": not a link
    bare = host.removeprefix("www.")
    words = " ".join(re.split(r"[.-]+", bare.removesuffix("." + tld)))
    parts = ["link", match["scheme"].split(":")[0].lower() if match["scheme"] else "", words, tld]
    if bare in SHORTENERS:
        parts.append("shortened")
    elif match["path"] and match["path"] != "/":
        parts += ["path", " ".join(w for w in re.split(r"[/?=&._#-]+", match["path"].lower()) if w.isalpha())]
    return " ".join(p for p in parts if p)


def mask_variables(text: str) -> str:
    """Links split into scheme, domain words, TLD and a marker for shorteners or for a path (whose letter words
    stay: /track, /pay), then every digit written as 0: "Pay £1.99 at https://bit.ly/3xYz or call 07700 900123"
    becomes "Pay £0.00 at link https bit ly shortened or call 00000 000000"."""
    text = _IP_URL.sub("link ip address", text)
    text = _URL.sub(_link, text)
    return _DIGIT.sub("0", text)


@dataclass(frozen=True, slots=True)
class TextNormalizer:
    """The normalisation a model was trained with, applied to each text before tokenising (and before the
    baseline's n-grams)."""

    mode: str = BASIC

    def __post_init__(self) -> None:
        if self.mode not in NORMALIZATIONS:
            raise ValueError(f"text_normalization must be one of {list(NORMALIZATIONS)}, not {self.mode!r}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TextNormalizer:
        """From a checkpoint's config.json (models trained before the setting existed: basic)."""
        return cls(str(config.get(TEXT_NORMALIZATION_KEY) or BASIC))

    def __call__(self, text: str) -> str:
        text = normalize_text(text)
        return mask_variables(text) if self.mode == VARIABLES else text

    def all(self, texts: Sequence[str]) -> list[str]:
        return [self(t) for t in texts]
