"""How the served `spam_probability` is made from the transformer's and the TF-IDF baseline's probabilities.

Every method is a logistic function of log-odds, fitted on validation by the evaluate stage
(`spam_service.pipeline.calibration`) and recorded in serving.json (`combination`):

- `transformer`: sigmoid(a * logit(p_transformer) + c), the transformer alone, calibrated (Platt scaling:
  temperature scaling with a bias). The baseline is not loaded.
- `max`: sigmoid(a * logit(max(p_transformer, p_baseline)) + c): the baseline can only add spam verdicts.
- `stacked`: sigmoid(a * logit(p_transformer) + b * logit(p_baseline) + c), a logistic regression over both.

Fitting on validation makes the probability mean what it says (of the messages scored 0.8, about 80% are spam),
which a fine-tuned network's softmax does not: it is over-confident. A model exported before combinations were
fitted is served as it was: the uncalibrated max (`LEGACY_MAX`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

METHODS = ("transformer", "max", "stacked")
_EPSILON = 1e-7  # probabilities are clipped to [eps, 1 - eps] before the logit: fp32 softmax reaches 0 and 1


def logit(p: float) -> float:
    p = min(max(p, _EPSILON), 1.0 - _EPSILON)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(frozen=True, slots=True)
class ScoreCombination:
    method: str
    transformer_weight: float = 1.0  # a (for `max`: the weight of the max's log-odds)
    baseline_weight: float = 0.0  # b, `stacked` only
    bias: float = 0.0  # c
    calibrated: bool = True  # False: the identity, as served before fitting existed

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"combination method must be one of {list(METHODS)}, not {self.method!r}")

    @property
    def uses_baseline(self) -> bool:
        return self.method != "transformer"

    def combine(self, transformer: float, baseline: float | None) -> float:
        if not self.calibrated:
            return max(transformer, baseline) if baseline is not None else transformer
        if baseline is None or self.method == "transformer":
            # No baseline loaded (COMBINE_BASELINE=false): the transformer's own calibration, recorded beside.
            return sigmoid(self.transformer_weight * logit(transformer) + self.bias)
        if self.method == "max":
            return sigmoid(self.transformer_weight * logit(max(transformer, baseline)) + self.bias)
        return sigmoid(
            self.transformer_weight * logit(transformer) + self.baseline_weight * logit(baseline) + self.bias
        )

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "calibrated"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoreCombination:
        keys = ("method", "transformer_weight", "baseline_weight", "bias")
        return cls(**{key: data[key] for key in keys if key in data})


LEGACY_MAX = ScoreCombination("max", calibrated=False)  # the transformer alone when there is no baseline


def served_combination(metadata: Mapping[str, Any], *, combined: bool) -> ScoreCombination:
    """The combination serving.json records for the model with its baseline (`combined`) or without it; the
    uncalibrated max (or transformer alone) for a directory exported before combinations were fitted."""
    recorded = metadata.get("combination")
    if not isinstance(recorded, Mapping):  # absent, or the old one-line description
        return LEGACY_MAX
    return ScoreCombination.from_dict(recorded["combined" if combined else "transformer"])
