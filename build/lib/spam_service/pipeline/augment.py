"""Light text augmentation for oversampling the minority (spam) class.

Spam is 13% of the collection. Repeating spam verbatim teaches the model those exact strings; perturbed copies
(dropped words, a swapped pair, changed case) push it toward cues that survive rewording, which is what newer
spam does to old spam.
"""

import random


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
