"""The operating point: the lowest threshold within a ham-blocked budget on validation, and the curves."""

import random

import pytest

from spam_service.pipeline.operating_point import (
    choose_threshold,
    choose_threshold_by_source,
    labels_at,
    plot_curves,
    ranking_quality,
    spam_recall_at_ham_rate,
    view_at,
)
from spam_service.pipeline.scores import binary_metrics


def scored(n_ham: int, n_spam: int, seed: int = 1) -> tuple[list[str], list[float]]:
    rng = random.Random(seed)
    truth = ["ham"] * n_ham + ["spam"] * n_spam
    scores = [rng.betavariate(1, 6) for _ in range(n_ham)] + [rng.betavariate(6, 1) for _ in range(n_spam)]
    return truth, scores


@pytest.mark.parametrize("budget", [0.0, 0.005, 0.01, 0.05, 0.2])
def test_the_threshold_is_the_lowest_that_keeps_ham_blocked_within_the_budget(budget):
    truth, scores = scored(1000, 150)
    threshold = choose_threshold(truth, scores, budget)
    assert binary_metrics(truth, labels_at(scores, threshold))["ham_blocked_rate"] <= budget
    # Any lower threshold that changes a verdict lets one more ham through than the budget allows.
    ham = sorted((s for s, t in zip(scores, truth, strict=True) if t == "ham"), reverse=True)
    next_ham = ham[int(budget * len(ham))]
    assert next_ham < threshold
    assert binary_metrics(truth, labels_at(scores, next_ham))["ham_blocked_rate"] > budget


def test_the_threshold_sits_halfway_to_the_next_higher_score():
    truth = ["ham", "ham", "ham", "ham", "spam"]
    assert choose_threshold(truth, [0.1, 0.2, 0.3, 0.4, 0.9], 0.0) == pytest.approx((0.4 + 0.9) / 2)
    assert choose_threshold(truth, [0.1, 0.2, 0.3, 0.4, 0.9], 0.25) == pytest.approx((0.3 + 0.4) / 2)
    assert choose_threshold(["ham", "ham"], [0.2, 0.3], 0.0) == pytest.approx((0.3 + 1.0) / 2)


def test_tied_ham_scores_are_kept_below_together():
    truth = ["ham"] * 4
    threshold = choose_threshold(truth, [0.7, 0.7, 0.7, 0.1], 0.25)
    assert threshold > 0.7  # one ham may pass, but the three tied at 0.7 cannot be split: all stay below


@pytest.mark.parametrize("budget", [-0.1, 1.0])
def test_a_budget_outside_zero_to_one_is_refused(budget):
    with pytest.raises(ValueError, match="fraction"):
        choose_threshold(["ham", "spam"], [0.1, 0.9], budget)


def test_validation_without_ham_is_refused():
    with pytest.raises(ValueError, match="ham"):
        choose_threshold(["spam", "spam"], [0.8, 0.9], 0.01)


def test_ranking_quality_and_views():
    truth, scores = scored(500, 100)
    quality = ranking_quality(truth, scores)
    assert 0.9 < quality["roc_auc"] <= 1.0 and 0.5 < quality["average_precision"] <= 1.0
    assert quality["spam_recall_at_1pct_ham"] == spam_recall_at_ham_rate(truth, scores, 0.01)
    perfect = ranking_quality(["ham", "ham", "spam"], [0.1, 0.2, 0.3])
    assert perfect == {"roc_auc": 1.0, "average_precision": 1.0, "spam_recall_at_1pct_ham": 1.0}
    view = view_at(truth, scores, 0.9)
    assert view["n"] == 600 and view["n_spam"] == 100
    assert view["at_threshold"]["spam_recall"] < view["at_0.5"]["spam_recall"]
    assert view["at_threshold"]["ham_blocked_rate"] <= view["at_0.5"]["ham_blocked_rate"]


def test_curves_are_drawn_for_every_set(tmp_path):
    views = {"validation": scored(200, 40, seed=2), "test": scored(300, 50, seed=3)}
    plot_curves(views, 0.7, tmp_path / "pr.png", tmp_path / "roc.png")
    for name in ("pr.png", "roc.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_the_threshold_keeps_every_validation_source_within_the_budget_not_only_their_sum():
    """2012 chat ham scores low, modern transactional ham (codes, alerts) higher: a threshold chosen on the pooled
    ham lets the modern source's ham through at several times the budget."""
    rng = random.Random(7)
    chat = [rng.betavariate(1, 12) for _ in range(900)]
    alerts = [rng.betavariate(2, 4) for _ in range(150)]
    spam = [rng.betavariate(8, 1) for _ in range(200)]
    truth = ["ham"] * 1050 + ["spam"] * 200
    scores = chat + alerts + spam
    sources = ["sms-collection"] * 900 + ["modern-synthetic"] * 150 + ["sms-collection"] * 100 + ["modern"] * 100
    budget = 0.01
    pooled = choose_threshold(truth, scores, budget)
    threshold, per_source = choose_threshold_by_source(truth, scores, sources, budget)

    def flagged(source: str, at: float) -> float:
        rows = [i for i, s in enumerate(sources) if s == source]
        return binary_metrics([truth[i] for i in rows], labels_at([scores[i] for i in rows], at))["ham_blocked_rate"]

    assert flagged("modern-synthetic", pooled) > budget  # what the pooled threshold did
    assert flagged("modern-synthetic", threshold) <= budget and flagged("sms-collection", threshold) <= budget
    assert threshold == per_source["modern-synthetic"] > per_source["sms-collection"]
    assert set(per_source) == {"sms-collection", "modern-synthetic"}  # a source without ham sets no threshold
    lower = max(s for s, t in zip(scores, truth, strict=True) if t == "ham" and s < threshold)
    assert flagged("modern-synthetic", lower) > budget  # and it is the lowest that does


def test_sources_must_line_up_with_the_scores():
    with pytest.raises(ValueError, match="2 labels, 2 scores and 1 sources"):
        choose_threshold_by_source(["ham", "spam"], [0.1, 0.9], ["a"], 0.01)
