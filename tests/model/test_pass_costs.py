"""The pass cost model: measured on the engine at load, and what it concludes from the times."""

import pytest

from spam_service.model.classifier import SpamClassifier
from spam_service.model.pass_costs import measure_pass_costs, pass_costs_from


def test_where_small_passes_win_passes_stay_small():
    # ONNX Runtime int8 on an Intel Xeon with VNNI: 386 texts/s one at a time, 437 at 4, fewer at 16.
    costs = pass_costs_from({1: 1 / 386, 4: 4 / 437, 16: 16 / 400}, tokens_per_text=24, batch_size=32)
    assert costs.max_texts == 4
    assert costs.measured


def test_times_within_a_tenth_of_the_best_choose_the_smaller_pass():
    costs = pass_costs_from({1: 0.0125, 4: 4 * 0.0081, 16: 16 * 0.0075}, tokens_per_text=24, batch_size=32)
    assert costs.max_texts == 4  # 8.1 ms a text is within 10% of 7.5 ms


def test_where_large_passes_win_the_batch_size_is_the_limit_and_the_fixed_cost_is_counted():
    # A fixed 2 ms a pass plus 0.1 ms a token: the overhead is 20 tokens, and the largest pass is cheapest per text.
    seconds = {n: 0.002 + 0.0001 * 24 * n for n in (1, 4, 16)}
    costs = pass_costs_from(seconds, tokens_per_text=24, batch_size=32)
    assert costs.max_texts == 32
    assert costs.overhead_tokens == pytest.approx(20, abs=0.1)


def test_the_fixed_cost_comes_from_the_passes_that_will_run():
    # int8 on an AMD EPYC (the start-up log): 1 text 4.67 ms, 4 texts 15.65, 16 texts 66.0. Through all three points
    # the line has no fixed cost (16 costs more than linearly); through 1 and 4, where passes are cut, ~1 ms.
    costs = pass_costs_from({1: 0.00467, 4: 0.01565, 16: 0.0660}, tokens_per_text=24, batch_size=32)
    assert costs.max_texts == 4
    assert costs.overhead_tokens == pytest.approx(24 * (0.00467 - 0.01098 / 3) / (0.01098 / 3), abs=0.1)


def test_a_classifier_is_measured_on_its_own_engine(tiny_bert_dir):
    classifier = SpamClassifier.load(tiny_bert_dir, max_tokens=16, batch_size=8, threads=1)
    assert not classifier.pass_costs.measured
    costs = measure_pass_costs(classifier)
    assert costs.measured and sorted(costs.seconds_per_pass) == [1, 4, 8]  # 16 capped at the batch size
    assert all(seconds > 0 for seconds in costs.seconds_per_pass.values())
    assert 1 <= costs.max_texts <= 8 and costs.overhead_tokens >= 0
