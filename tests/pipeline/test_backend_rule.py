"""The rule that chooses the served backend (`pipeline.backend_rule`): accuracy on validation and the probe, and
labels that do not depend on the texts sharing a pass."""

import pytest

from spam_service.pipeline.backend_rule import (
    BATCH_TOLERANCE,
    F1_TOLERANCE,
    HAM_BLOCKED_TOLERANCE,
    choose_default_backend,
    choose_int8,
    shortfalls,
)


def result(f1: float = 0.98, ham: float = 0.005, speed: float = 100.0, batch: float = 0.0, **views) -> dict:
    """A backends.json entry: served spam F1 and ham blocked per view (overridable one view at a time)."""
    entry = {"validation": (f1, ham), "probe": (f1, ham), **views}
    return {
        "views": {view: {"served": {"spam_f1": f, "ham_blocked_rate": h}} for view, (f, h) in entry.items()},
        "texts_per_s": speed,
        "batch_max_difference": batch,
        "over_budget": {},
    }


def test_the_fastest_backend_within_the_tolerances_wins():
    results = {"torch": result(speed=100), "onnx": result(speed=120), "onnx-int8": result(f1=0.978, speed=300)}
    assert choose_default_backend(results) == "onnx-int8"


@pytest.mark.parametrize("view", ["validation", "probe"])
def test_losing_more_spam_f1_than_the_tolerance_on_either_view_disqualifies(view):
    fp32 = result()
    ours = result(**{view: (0.98 - F1_TOLERANCE - 0.0001, 0.005)})
    assert [reason.split()[0] for reason in shortfalls(ours, fp32)] == [view]
    assert choose_default_backend({"torch": fp32, "onnx-int8": result() | ours | {"texts_per_s": 900}}) == "torch"


def test_exactly_the_tolerances_still_hold():
    fp32 = result(f1=0.9872, ham=0.0047)
    assert shortfalls(result(f1=0.9842, ham=0.0057), fp32) == []  # 0.003 and 0.1 point, floating point aside


@pytest.mark.parametrize("view", ["validation", "probe"])
def test_blocking_more_ham_than_the_tolerance_disqualifies(view):
    ours = result(**{view: (0.98, 0.005 + HAM_BLOCKED_TOLERANCE + 0.0001)})
    [reason] = shortfalls(ours, result())
    assert reason.startswith(f"{view} ham blocked")


def test_a_backend_whose_results_depend_on_the_batch_is_never_chosen():
    results = {"torch": result(), "onnx-int8": result(speed=900, batch=BATCH_TOLERANCE * 10)}
    assert "moves by up to" in shortfalls(results["onnx-int8"], results["torch"])[0]
    assert choose_default_backend(results) == "torch"
    assert shortfalls(result(batch=BATCH_TOLERANCE), result()) == []


def test_a_validation_source_over_the_ham_budget_disqualifies():
    """Within the tolerances on the pooled views, yet one source's ham flagged beyond the budget at the served
    threshold: the issue's budget is per source."""
    ours = result() | {"over_budget": {"modern-synthetic": 0.0062}}
    assert shortfalls(ours, result()) == ["validation modern-synthetic ham flagged 0.0062, over the budget"]
    assert choose_default_backend({"torch": result(), "onnx-int8": ours | {"texts_per_s": 900}}) == "torch"


def test_the_test_split_does_not_decide():
    ours = result(test=(0.5, 0.5))
    assert shortfalls(ours, result(test=(0.99, 0.0))) == []


def test_the_int8_served_is_the_fastest_eligible_candidate_else_the_one_that_breaks_least():
    fp32 = result()
    candidates = {
        "dynamic": result(speed=500, batch=0.3),
        "static": result(speed=300),
        "static-slow": result(speed=200),
    }
    assert choose_int8(candidates, fp32) == "static"
    candidates["static"] = result(speed=300, f1=0.9, ham=0.05)  # two shortfalls on each view
    candidates["static-slow"] = result(speed=200, f1=0.9)
    assert choose_int8(candidates, fp32) == "dynamic"  # one shortfall
