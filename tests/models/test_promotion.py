"""The promotion gate's rule, on figures alone (no store)."""

import pytest

from spam_service.models.promotion import INT8_F1_TOLERANCE, GateFigures, promotion_refusals, version_refusals
from spam_service.models.registry import RegisteredVersion
from tests.support.mlflow_stores import evaluation_reports

CHAMPION = GateFigures.from_reports(*evaluation_reports())  # spam F1 0.97 [0.95, 0.99], ham blocked 0.005 [., 0.01]


def figures(**changes) -> GateFigures:
    return GateFigures.from_reports(*evaluation_reports(**changes))


def test_a_candidate_inside_the_champions_intervals_passes_even_when_slightly_worse():
    assert promotion_refusals(figures(spam_f1=0.951, ham_blocked=0.0099), CHAMPION) == []


def test_spam_f1_below_the_champions_interval_is_refused_with_the_figures():
    [reason] = promotion_refusals(figures(spam_f1=0.949), CHAMPION)
    assert "spam F1 0.9490" in reason and "[0.9500, 0.9900]" in reason


def test_ham_blocked_rate_above_the_champions_interval_is_refused():
    [reason] = promotion_refusals(figures(ham_blocked=0.0101), CHAMPION)
    assert "ham-blocked rate 0.0101" in reason and "0.0100]" in reason


def test_every_broken_rule_is_reported():
    reasons = promotion_refusals(figures(spam_f1=0.9, ham_blocked=0.02, int8_spam_f1=0.96), CHAMPION)
    assert len(reasons) == 3


@pytest.mark.parametrize(
    ("int8", "fp32", "passes"),
    [(0.9716, 0.9766, True), (0.9715, 0.9766, False), (0.98, 0.97, True)],
)
def test_the_int8_rule_allows_exactly_the_tolerance(int8, fp32, passes):
    candidate = figures(int8_spam_f1=int8, fp32_spam_f1=fp32)
    assert candidate.int8_passes is passes
    assert bool(promotion_refusals(candidate, None)) is not passes
    assert INT8_F1_TOLERANCE == 0.005


def test_without_a_champion_only_the_int8_rule_applies():
    assert promotion_refusals(figures(spam_f1=0.1, ham_blocked=0.9), None) == []
    [reason] = promotion_refusals(figures(int8_spam_f1=0.9), None)
    assert reason.startswith("int8 rule broken")


def test_figures_survive_the_round_trip_through_version_tags():
    candidate = figures(spam_f1=0.9733, int8_spam_f1=0.9733, fp32_spam_f1=0.9766)
    tags = candidate.as_tags()
    assert GateFigures.from_tags(tags) == candidate
    assert tags["int8_rule"] == "pass" and tags["int8_rule.difference"] == "-0.0033"


def test_a_version_without_figures_in_its_tags_is_refused_and_cannot_be_compared_against():
    tagged = RegisteredVersion("2", (), tags=figures().as_tags())
    bare = RegisteredVersion("1", ("champion",), tags={"test.spam_f1": "n/a"})
    assert "has no test metrics" in version_refusals(bare, None)[0]
    assert "champion (version 1) has no test metrics" in version_refusals(tagged, bare)[0]
    assert version_refusals(tagged, tagged) == []  # re-promoting the champion compares it with nothing


def test_a_version_serving_fp32_is_not_refused_for_its_int8_copy():
    metrics, backends = evaluation_reports(int8_spam_f1=0.9)
    serving_int8 = GateFigures.from_reports(metrics, backends)
    serving_fp32 = GateFigures.from_reports(metrics, {**backends, "default_backend": "onnx"})
    assert promotion_refusals(serving_int8, None)[0].startswith("int8 rule broken")
    assert promotion_refusals(serving_fp32, None) == [] and serving_fp32.as_tags()["int8_rule"] == "fail"
    # From a registered version's tags: the backend it serves is its `default_backend` tag (int8 when missing).
    tags = {**serving_fp32.as_tags(), "default_backend": "onnx"}
    assert version_refusals(RegisteredVersion("3", (), tags=tags), None) == []
    assert version_refusals(RegisteredVersion("3", (), tags=serving_fp32.as_tags()), None) != []
