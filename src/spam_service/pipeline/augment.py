"""Deterministic text augmentation for training.

`augment_text` oversamples the minority class: spam is 13% of the collection, and repeating it verbatim teaches
the model those exact strings; perturbed copies (dropped words, a swapped pair, changed case) push it toward cues
that survive rewording, which is what newer spam does to old spam.

`messy_text` makes copies of both labels with the messiness real traffic has and the synthetic templates lack
(train `messy_copies`): the label must not hinge on a typo or a cut-off link.
"""

import random
import re


def augment_text(text: str, rng: random.Random, *, drop_probability: float = 0.1) -> str:
    words = text.split()
    if len(words) > 3:
        kept = [w for w in words if rng.random() >= drop_probability]
        words = kept if len(kept) >= 2 else words
    if len(words) > 2 and rng.random() < 0.3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    augmented = " ".join(words)
    roll = rng.random()
    if roll < 0.15:
        augmented = augmented.upper()
    elif roll < 0.3:
        augmented = augmented.lower()
    return augmented


# Latin letters and look-alikes from Cyrillic and Greek, as evasive senders and some keyboards mix them.
_LOOKALIKES = {
    k: v for k, v in zip("aeopcxiABO", "\u0430\u0435\u043e\u0440\u0441\u0445\u0456\u0391\u0392\u039f", strict=True)
}
_LINK = re.compile(r"(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?")


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:  # swapped neighbours
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # a dropped letter
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # a doubled letter


def _truncated_link(match: re.Match[str], rng: random.Random) -> str:
    link = match[0]
    roll = rng.random()
    if roll < 0.4 and "://" in link:
        return link.split("://", 1)[1]  # scheme dropped
    if roll < 0.8 and len(link) > 12:
        return link[: rng.randrange(len(link) // 2, len(link))] + rng.choice(("", "...", "…"))  # cut off
    return link


def messy_text(text: str, rng: random.Random) -> str:
    """A copy with the messiness real traffic has and templates lack: typos, odd spacing, truncated links and
    mixed scripts, each with some probability; the same `rng` state gives the same copy."""
    text = _LINK.sub(lambda m: _truncated_link(m, rng), text) if rng.random() < 0.5 else text
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) >= 4 and word.isalpha() and rng.random() < 0.08:
            words[i] = _typo(word, rng)
    spacing = rng.random()
    if spacing < 0.25:
        text = "  ".join(words)  # doubled spaces
    elif spacing < 0.5:
        text = re.sub(r"([.,!?:]) (?=\w)", r"\1", " ".join(words))  # no space after punctuation
    elif spacing < 0.6:
        text = re.sub(r"(?<=\w)([.,!?:])", r" \1", " ".join(words))  # a space before it
    else:
        text = " ".join(words)
    if rng.random() < 0.15:
        text = "".join(_LOOKALIKES.get(ch, ch) if rng.random() < 0.3 else ch for ch in text)
    return text
