import pytest
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef, precision_score, recall_score

from spam_service.pipeline.scores import binary_metrics, bootstrap_intervals, unrounded_metrics

TRUTH = ["spam", "spam", "spam", "ham", "ham", "ham", "ham", "ham", "ham", "spam"]
PREDICTED = ["spam", "spam", "ham", "spam", "ham", "ham", "ham", "ham", "ham", "spam"]


def test_point_metrics_agree_with_scikit_learn():
    metrics = binary_metrics(TRUTH, PREDICTED)
    kwargs = {"pos_label": "spam"}
    assert metrics["accuracy"] == pytest.approx(accuracy_score(TRUTH, PREDICTED), abs=1e-4)
    assert metrics["spam_precision"] == pytest.approx(precision_score(TRUTH, PREDICTED, **kwargs), abs=1e-4)
    assert metrics["spam_recall"] == pytest.approx(recall_score(TRUTH, PREDICTED, **kwargs), abs=1e-4)
    assert metrics["spam_f1"] == pytest.approx(f1_score(TRUTH, PREDICTED, **kwargs), abs=1e-4)
    assert metrics["mcc"] == pytest.approx(matthews_corrcoef(TRUTH, PREDICTED), abs=1e-4)
    assert metrics["ham_blocked_rate"] == pytest.approx(1 / 6, abs=1e-4)  # one of six ham marked spam


def test_all_ham_predictions_score_zero_on_spam_despite_high_accuracy():
    truth = ["ham"] * 87 + ["spam"] * 13
    metrics = binary_metrics(truth, ["ham"] * 100)
    assert metrics["accuracy"] == 0.87
    assert metrics["spam_f1"] == metrics["spam_recall"] == metrics["mcc"] == 0.0


def test_bootstrap_intervals_bracket_the_estimate_and_repeat_for_a_seed():
    truth, predicted = TRUTH * 20, PREDICTED * 20
    intervals = bootstrap_intervals(truth, predicted, samples=500, seed=1)
    point = binary_metrics(truth, predicted)
    for name, interval in intervals.items():
        assert interval["low"] <= point[name] <= interval["high"], name
    assert intervals["spam_f1"]["low"] < intervals["spam_f1"]["high"]
    assert bootstrap_intervals(truth, predicted, samples=500, seed=1) == intervals


def test_perfect_predictions_have_degenerate_intervals():
    intervals = bootstrap_intervals(TRUTH, TRUTH, samples=200)
    assert intervals["spam_f1"] == {"low": 1.0, "high": 1.0}


def test_unrounded_metrics_are_the_exact_ratios_that_the_reports_round():
    exact = unrounded_metrics(TRUTH, PREDICTED)
    assert exact["spam_f1"] == 2 * 3 / (2 * 3 + 1 + 1)  # 3 spam caught, 1 ham flagged, 1 spam missed
    assert exact["accuracy"] == 8 / 10
    assert binary_metrics(TRUTH, PREDICTED) == {name: round(value, 4) for name, value in exact.items()}
