"""The evaluate stage's choice of default backend."""

import pytest

from spam_service.pipeline.evaluate import F1_TOLERANCE, choose_default_backend


def result(served: float, transformer: float, speed: float) -> dict:
    return {"served": {"spam_f1": served}, "transformer": {"spam_f1": transformer}, "texts_per_s": speed}


def test_fastest_backend_within_tolerance_wins():
    results = {
        "torch": result(0.976, 0.973, 150),
        "onnx": result(0.976, 0.973, 200),
        "onnx-int8": result(0.973, 0.970, 500),
    }
    assert choose_default_backend(results) == "onnx-int8"


@pytest.mark.parametrize("view", ["served", "transformer"])
def test_a_faster_backend_losing_more_than_the_tolerance_is_passed_over(view):
    results = {
        "torch": result(0.976, 0.973, 150),
        "onnx": result(0.976, 0.973, 200),
        "onnx-int8": result(0.976, 0.973, 500),
    }
    results["onnx-int8"][view]["spam_f1"] -= F1_TOLERANCE + 0.001
    assert choose_default_backend(results) == "onnx"


def test_torch_is_chosen_when_it_is_the_fastest_eligible():
    results = {
        "torch": result(0.976, 0.973, 150),
        "onnx": result(0.960, 0.973, 200),
        "onnx-int8": result(0.960, 0.960, 500),
    }
    assert choose_default_backend(results) == "torch"
