"""Fitting the served combination on validation, and measuring how well its probabilities are calibrated.

`fit_combination` fits one of `spam_service.model.combination`'s methods by logistic regression on log-odds
(Platt scaling for one input; stacking for two), on the validation split: the split that already chooses the
checkpoint and the threshold, so the test split and the probe stay untouched. Three or fewer parameters on ~1,000
messages hardly overfit.

The expected calibration error (ECE) is the mean gap between predicted probability and observed spam rate over
ten equal-width bins, weighted by how many messages fall in each; the reliability curve plots the two against each
other (reports/reliability.png).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spam_service.model.combination import ScoreCombination, logit
from spam_service.model.labels import SPAM

CALIBRATION_BINS = 10


def _features(method: str, transformer: Sequence[float], baseline: Sequence[float]) -> np.ndarray:
    if method == "transformer":
        columns = [[logit(t) for t in transformer]]
    elif method == "max":
        columns = [[logit(max(t, b)) for t, b in zip(transformer, baseline, strict=True)]]
    else:
        columns = [[logit(t) for t in transformer], [logit(b) for b in baseline]]
    return np.asarray(columns, dtype=np.float64).T


def fit_combination(
    method: str, truth: Sequence[str], transformer: Sequence[float], baseline: Sequence[float]
) -> ScoreCombination:
    """The combination `method` with weights and bias fitted to `truth` (nearly unregularised logistic
    regression: the weights are what calibrates)."""
    from sklearn.linear_model import LogisticRegression

    ScoreCombination(method)  # validates the name
    positive = np.asarray([t == SPAM for t in truth])
    if positive.all() or not positive.any():
        raise ValueError("fitting a combination needs both spam and ham in the validation set")
    model = LogisticRegression(C=1e4, max_iter=1000).fit(_features(method, transformer, baseline), positive)
    weights = [round(float(w), 6) for w in model.coef_[0]]
    return ScoreCombination(
        method,
        transformer_weight=weights[0],
        baseline_weight=weights[1] if method == "stacked" else 0.0,
        bias=round(float(model.intercept_[0]), 6),
    )


def reliability(truth: Sequence[str], probabilities: Sequence[float], bins: int = CALIBRATION_BINS) -> list[dict]:
    """Per non-empty equal-width bin: its mean predicted probability, observed spam share and size."""
    values = np.asarray(probabilities, dtype=np.float64)
    positive = np.asarray([t == SPAM for t in truth], dtype=np.float64)
    index = np.minimum((values * bins).astype(int), bins - 1)
    return [
        {
            "predicted": round(float(values[index == b].mean()), 4),
            "observed": round(float(positive[index == b].mean()), 4),
            "n": int((index == b).sum()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def expected_calibration_error(
    truth: Sequence[str], probabilities: Sequence[float], bins: int = CALIBRATION_BINS
) -> float:
    curve = reliability(truth, probabilities, bins)
    total = sum(point["n"] for point in curve)
    return round(sum(point["n"] * abs(point["predicted"] - point["observed"]) for point in curve) / total, 4)


def plot_reliability(
    calibrated: dict[str, tuple[Sequence[str], Sequence[float]]],
    uncalibrated: tuple[str, Sequence[str], Sequence[float]],
    path: Path,
) -> None:
    """Reliability curves of the served probability on each set, and of the uncalibrated score on one of them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5.6, 4.8))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, (truth, probabilities) in calibrated.items():
        curve = reliability(truth, probabilities)
        ece = expected_calibration_error(truth, probabilities)
        axis.plot(
            [p["predicted"] for p in curve], [p["observed"] for p in curve], "o-", label=f"{name} (ECE {ece:.3f})"
        )
    name, truth, probabilities = uncalibrated
    curve = reliability(truth, probabilities)
    axis.plot(
        [p["predicted"] for p in curve],
        [p["observed"] for p in curve],
        "x--",
        color="black",
        label=f"{name}, uncalibrated (ECE {expected_calibration_error(truth, probabilities):.3f})",
    )
    axis.set(
        xlabel="spam_probability (mean of a bin)",
        ylabel="share of the bin that is spam",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Reliability ({CALIBRATION_BINS} equal-width bins)",
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
