"""The operating point: the spam threshold chosen on validation for a budget of legitimate messages blocked.

A spam filter's users feel its false positives most: a one-time code or a bank alert that never arrives. So the
threshold is not 0.5 by habit but the lowest one that blocks at most `ham_blocked_budget` of the ham of *every*
source of validation (the collection's 2012 chat and the modern synthetic set's codes, alerts and notices): the
source that is worst at a threshold decides it, so the budget holds where the traffic is new and not only on
average (`choose_threshold_by_source`). It is chosen on validation, never on test or the probe, which only report
how it holds. The export records it in serving.json, the service serves it unless SPAM_THRESHOLD says otherwise,
and the registry tags the model version with it.

Threshold-free views sit beside it: ROC AUC, average precision, and the spam caught at 1% of ham flagged (the
figure the out-of-time evaluation quotes), with the precision-recall and ROC curves as PNGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from spam_service.model.labels import HAM, SPAM
from spam_service.pipeline.scores import binary_metrics

COMPARISON_HAM_RATE = 0.01  # "spam caught at 1% ham flagged", the out-of-time evaluation's figure


def choose_threshold(truth: Sequence[str], scores: Sequence[float], ham_blocked_budget: float) -> float:
    """The lowest threshold at which at most `ham_blocked_budget` of the ham in `truth` scores at or above it.

    Every threshold between the highest ham score that must pass and the next higher score (of any message, or
    1.0) gives validation the same verdicts; it sits halfway between, so neither a message scoring like that ham
    nor one scoring like that next message is decided on a knife edge.
    """
    if not 0 <= ham_blocked_budget < 1:
        raise ValueError(f"ham_blocked_budget must be a fraction in [0, 1), not {ham_blocked_budget}")
    if len(truth) != len(scores):
        raise ValueError(f"{len(truth)} labels but {len(scores)} scores")
    values = np.asarray(scores, dtype=np.float64)
    ham = np.sort(values[[t != SPAM for t in truth]])[::-1]
    if len(ham) == 0:
        raise ValueError("choosing a threshold needs ham messages in the validation set")
    allowed = int(np.floor(ham_blocked_budget * len(ham) + 1e-9))  # ham that may score at or above the threshold
    if allowed >= len(ham):
        return 0.0
    must_pass = float(ham[allowed])  # the highest-scoring ham that must stay below the threshold
    higher = values[values > must_pass]  # every threshold up to the lowest of these gives the same verdicts
    upper = float(higher.min()) if len(higher) else 1.0
    threshold = round((must_pass + upper) / 2, 6)
    return threshold if threshold > must_pass else float(np.nextafter(must_pass, 1.0))


def choose_threshold_by_source(
    truth: Sequence[str], scores: Sequence[float], sources: Sequence[str], ham_blocked_budget: float
) -> tuple[float, dict[str, float]]:
    """The lowest threshold that keeps every source's ham within the budget, and each source's own threshold.

    The share of a source's ham blocked only falls as the threshold rises, so the highest of the sources' own
    thresholds keeps all of them within budget, and no lower threshold does.
    """
    if not len(truth) == len(scores) == len(sources):
        raise ValueError(f"{len(truth)} labels, {len(scores)} scores and {len(sources)} sources")
    per_source = {}
    for source in sorted(set(sources)):
        rows = [i for i, s in enumerate(sources) if s == source]
        if any(truth[i] != SPAM for i in rows):
            per_source[source] = choose_threshold(
                [truth[i] for i in rows], [scores[i] for i in rows], ham_blocked_budget
            )
    if not per_source:
        raise ValueError("choosing a threshold needs ham messages in the validation set")
    return max(per_source.values()), per_source


def labels_at(scores: Sequence[float], threshold: float) -> list[str]:
    return [SPAM if s >= threshold else HAM for s in scores]


def spam_recall_at_ham_rate(truth: Sequence[str], scores: Sequence[float], ham_rate: float) -> float:
    """Share of spam caught at the threshold that flags at most `ham_rate` of this set's own ham (an oracle
    threshold: a property of the scores, not of the served threshold)."""
    threshold = choose_threshold(truth, scores, ham_rate)
    return binary_metrics(truth, labels_at(scores, threshold))["spam_recall"]


def ranking_quality(truth: Sequence[str], scores: Sequence[float]) -> dict[str, float]:
    """ROC AUC, average precision and the spam caught at 1% ham flagged: how well the scores rank, whatever the
    threshold."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    positive = [t == SPAM for t in truth]
    return {
        "roc_auc": round(float(roc_auc_score(positive, scores)), 4),
        "average_precision": round(float(average_precision_score(positive, scores)), 4),
        "spam_recall_at_1pct_ham": spam_recall_at_ham_rate(truth, scores, COMPARISON_HAM_RATE),
    }


def view_at(truth: Sequence[str], scores: Sequence[float], threshold: float) -> dict:
    """One set's figures at the served threshold and at 0.5, with the threshold-free ones."""
    return {
        "n": len(truth),
        "n_spam": sum(t == SPAM for t in truth),
        "at_threshold": binary_metrics(truth, labels_at(scores, threshold)),
        "at_0.5": binary_metrics(truth, labels_at(scores, 0.5)),
        **ranking_quality(truth, scores),
    }


def plot_curves(
    views: dict[str, tuple[Sequence[str], Sequence[float]]], threshold: float, pr_path: Path, roc_path: Path
) -> None:
    """Precision-recall and ROC curves of the served score on each set, the operating point marked on each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    pr_figure, pr_axis = plt.subplots(figsize=(5.6, 4.6))
    roc_figure, roc_axis = plt.subplots(figsize=(5.6, 4.6))
    for name, (truth, scores) in views.items():
        positive = [t == SPAM for t in truth]
        precision, recall, _ = precision_recall_curve(positive, scores)
        (line,) = pr_axis.plot(recall, precision, label=name)
        false_rate, true_rate, _ = roc_curve(positive, scores)
        roc_axis.plot(false_rate, true_rate, label=name, color=line.get_color())
        at = binary_metrics(truth, labels_at(scores, threshold))
        pr_axis.plot(at["spam_recall"], at["spam_precision"], "o", color=line.get_color())
        roc_axis.plot(at["ham_blocked_rate"], at["spam_recall"], "o", color=line.get_color())
    pr_axis.set(
        xlabel="spam recall",
        ylabel="spam precision",
        ylim=(0.0, 1.02),
        title=f"Precision-recall (dots: threshold {threshold:.3f})",
    )
    roc_axis.set(
        xlabel="ham flagged (false positive rate, log scale below 1%)",
        ylabel="spam caught (recall)",
        title=f"ROC (dots: threshold {threshold:.3f})",
    )
    roc_axis.set_xscale("symlog", linthresh=0.01)  # the budgets that matter are under 1%
    for axis in (pr_axis, roc_axis):
        axis.grid(alpha=0.3)
        axis.legend(loc="lower left" if axis is pr_axis else "lower right")
    for figure, path in ((pr_figure, pr_path), (roc_figure, roc_path)):
        figure.tight_layout()
        figure.savefig(path, dpi=110)
        plt.close(figure)
