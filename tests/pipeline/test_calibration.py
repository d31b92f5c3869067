"""Fitting the served combination on validation, and the calibration error it is judged by."""

import math
import random

import pytest

from spam_service.model.combination import LEGACY_MAX, ScoreCombination, served_combination
from spam_service.pipeline.calibration import (
    expected_calibration_error,
    fit_combination,
    plot_reliability,
    reliability,
)


def overconfident(n: int, seed: int, noise: float = 0.0) -> tuple[list[str], list[float], list[float]]:
    """Labels drawn from a true probability q; the transformer reports q pushed towards 0 and 1 (log-odds x3, with
    `noise` added first), the baseline another noisy view of the same q."""
    rng = random.Random(seed)
    truth, transformer, baseline = [], [], []
    for _ in range(n):
        z = rng.gauss(-1.0, 2.0)
        q = 1 / (1 + math.exp(-z))
        truth.append("spam" if rng.random() < q else "ham")
        transformer.append(1 / (1 + math.exp(-3 * (z + rng.gauss(0, noise)))))
        baseline.append(1 / (1 + math.exp(-(z + rng.gauss(0, 1.5)))))
    return truth, transformer, baseline


def test_fitting_undoes_an_overconfident_score():
    truth, transformer, baseline = overconfident(4000, seed=1)
    fitted = fit_combination("transformer", truth, transformer, baseline)
    assert fitted.transformer_weight == pytest.approx(1 / 3, abs=0.05)  # the inverse of the overconfidence
    test_truth, test_transformer, _ = overconfident(4000, seed=2)
    calibrated = [fitted.combine(t, None) for t in test_transformer]
    assert expected_calibration_error(test_truth, calibrated) < 0.03
    assert expected_calibration_error(test_truth, test_transformer) > 0.08


def test_stacking_weights_both_models_and_max_fits_one_weight():
    truth, transformer, baseline = overconfident(4000, seed=3, noise=1.5)  # each model knows something
    stacked = fit_combination("stacked", truth, transformer, baseline)
    assert stacked.transformer_weight > 0 and stacked.baseline_weight > 0
    assert fit_combination("max", truth, transformer, baseline).baseline_weight == 0.0
    with pytest.raises(ValueError, match="both spam and ham"):
        fit_combination("stacked", ["ham"] * 3, [0.1] * 3, [0.2] * 3)
    with pytest.raises(ValueError, match="combination method must be one of"):
        fit_combination("mean", truth, transformer, baseline)


def test_a_combination_round_trips_through_serving_json_and_old_exports_keep_the_max():
    fitted = ScoreCombination("stacked", transformer_weight=0.4, baseline_weight=1.5, bias=-2.0)
    alone = ScoreCombination("transformer", transformer_weight=0.5, bias=-1.0)
    metadata = {"combination": {"combined": fitted.as_dict(), "transformer": alone.as_dict()}}
    assert served_combination(metadata, combined=True) == fitted
    assert served_combination(metadata, combined=False) == alone
    old = {"combination": "spam_probability = max(transformer, baseline from baseline.joblib)"}
    assert served_combination(old, combined=True) is LEGACY_MAX
    assert LEGACY_MAX.combine(0.2, 0.7) == 0.7 and LEGACY_MAX.combine(0.2, None) == 0.2
    assert fitted.combine(1.0, 0.0) < 1.0  # probabilities of exactly 0 and 1 are clipped, not infinite


def test_reliability_bins_and_the_error_of_a_calibrated_and_a_constant_score():
    truth = ["spam", "ham", "ham", "ham"] * 50
    assert expected_calibration_error(truth, [0.25] * 200) == 0.0
    assert expected_calibration_error(truth, [0.75] * 200) == 0.5
    curve = reliability(["spam", "ham", "spam"], [0.05, 0.05, 0.95])
    assert curve == [{"predicted": 0.05, "observed": 0.5, "n": 2}, {"predicted": 0.95, "observed": 1.0, "n": 1}]


def test_the_reliability_plot_is_written(tmp_path):
    truth, transformer, _ = overconfident(300, seed=4)
    path = tmp_path / "reliability.png"
    plot_reliability({"validation": (truth, transformer)}, ("validation", truth, transformer), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
