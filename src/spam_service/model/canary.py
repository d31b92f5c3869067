"""Canary texts: messages whose label no servable model may get wrong, checked before a model is swapped in.

Written for this check (none is from the SMS Spam Collection, so a model cannot pass by remembering its training
data): blatant prize/premium-rate spam and plain everyday ham. A candidate that mislabels any of them is refused
and the model serving keeps serving. They catch a broken export, swapped labels, a wrong tokenizer or an untrained
checkpoint, not a model that is merely a little worse: the registry's promotion gate judges that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spam_service.errors import ModelLoadError
from spam_service.model.classifier import SpamClassifier
from spam_service.model.labels import HAM, SPAM

SPAM_CANARIES: tuple[str, ...] = (
    "CONGRATULATIONS! You have WON a £2000 cash prize! To claim call 09061701461 now. T&Cs apply. 150p/min",
    "URGENT! Your mobile number has been awarded a FREE holiday. Txt CLAIM to 87121 now to collect. Stop? txt STOP",
    "FREE entry into our weekly draw to win a brand new iPhone! Text WIN to 80082 now. 18+ only, £1.50/msg",
    "You have been selected for a guaranteed £1000 cash reward. Call 09050000301 from a landline to claim, 25p/min",
)
HAM_CANARIES: tuple[str, ...] = (
    "Hey, are we still meeting for lunch tomorrow at 1?",
    "I'm running about ten minutes late, sorry! See you soon",
    "Thanks for dinner last night, it was lovely to see you both",
    "Can you pick up some milk and bread on your way home?",
)


class CanaryFailedError(ModelLoadError):
    """A candidate model mislabels a canary text: it is not swapped in."""


@dataclass(frozen=True, slots=True)
class CanaryMiss:
    text: str
    expected: str
    spam_probability: float


def canary_misses(classifier: SpamClassifier) -> list[CanaryMiss]:
    """The canary texts `classifier` labels wrongly (empty: it passes)."""
    texts: Sequence[str] = (*SPAM_CANARIES, *HAM_CANARIES)
    expected = [SPAM] * len(SPAM_CANARIES) + [HAM] * len(HAM_CANARIES)
    return [
        CanaryMiss(text, label, prediction.spam_probability)
        for text, label, prediction in zip(texts, expected, classifier.predict(texts), strict=True)
        if prediction.label != label
    ]


def check_canaries(classifier: SpamClassifier, where: str) -> None:
    """Raise `CanaryFailedError` naming each canary text the model at `where` mislabels."""
    misses = canary_misses(classifier)
    if misses:
        listed = "; ".join(
            f"{miss.text[:40]!r}... should be {miss.expected} (spam probability {miss.spam_probability:.3f})"
            for miss in misses[:3]
        )
        more = f" and {len(misses) - 3} more" if len(misses) > 3 else ""
        raise CanaryFailedError(
            f"the model at {where} mislabels {len(misses)} of {len(SPAM_CANARIES) + len(HAM_CANARIES)} canary texts "
            f"(known spam and ham): {listed}{more}; it is not fit to serve"
        )
