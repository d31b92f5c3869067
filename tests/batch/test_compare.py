"""Challenger against champion: agreement and flips as the two models label the texts in-process, and precision and
recall against feedback from a file or from the prediction store."""

import json
from pathlib import Path

import pytest

from spam_service.batch.compare import compare_models, metrics, read_feedback
from spam_service.batch.inputs import read_input
from spam_service.batch.scoring import ModelPlan, load_planned, resolve_model


@pytest.fixture(scope="module")
def other_engine_challenger(trained_model_dir: Path, served_plan: ModelPlan) -> ModelPlan:
    """The same weights served by the other ONNX engine (fp32 if int8 is the default, else int8) at the same
    threshold: a real challenger whose labels may differ a little."""
    other = "onnx" if served_plan.backend == "onnx-int8" else "onnx-int8"
    plan, _ = resolve_model(str(trained_model_dir), backend=other)
    return plan


def test_metrics_from_counts_of_predicted_and_true_labels():
    counted = metrics({("spam", "spam"): 3, ("spam", "ham"): 1, ("ham", "spam"): 2, ("ham", "ham"): 4})
    assert (counted.labelled, counted.accuracy, counted.spam_precision, counted.spam_recall) == (10, 0.7, 0.75, 0.6)
    assert metrics({}).accuracy is None and metrics({("ham", "ham"): 2}).spam_precision is None


def test_compare_counts_flips_as_both_models_label_in_process(
    spark, served_plan, other_engine_challenger, sample_texts, tmp_path
):
    path = tmp_path / "labelled.jsonl"
    truth = ["spam" if i % 4 == 0 else "ham" for i in range(len(sample_texts))]
    path.write_text(
        "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in zip(sample_texts, truth, strict=True))
    )
    report = compare_models(
        spark, read_input(spark, str(path)), served_plan, other_engine_challenger, label_column="label", examples=2
    )

    champion = load_planned(served_plan).predict(sample_texts)
    challenger = load_planned(other_engine_challenger).predict(sample_texts)
    pairs = [(a.label, b.label) for a, b in zip(champion, challenger, strict=True)]
    assert report["texts"] == len(sample_texts)
    assert report["agreement"] == pytest.approx(sum(a == b for a, b in pairs) / len(pairs), abs=1e-6)
    for was, becomes in (("ham", "spam"), ("spam", "ham")):
        flip = report["flips"][f"{was}_to_{becomes}"]
        assert flip["count"] == pairs.count((was, becomes))
        assert len(flip["examples"]) == min(2, flip["count"])
    expected = metrics(_count(champion, truth))
    assert report["models"]["champion"]["metrics"]["spam_precision"] == expected.spam_precision
    assert report["models"]["champion"]["metrics"]["labelled"] == len(sample_texts)
    assert report["models"]["champion"]["backend"] == served_plan.backend
    assert report["models"]["challenger"]["backend"] == other_engine_challenger.backend != served_plan.backend


@pytest.mark.parametrize("source", ["jsonl", "store"])
def test_feedback_joins_the_request_log_on_request_and_position(
    spark, served_plan, other_engine_challenger, request_log, make_app, tmp_path, source
):
    directory, responses = request_log
    reported = (responses[0]["request_id"], 1, "spam")  # the request_log fixture reported this one through /feedback
    if source == "jsonl":
        uri = str(tmp_path / "feedback.jsonl")
        row = {"request_id": reported[0], "text_index": reported[1], "label": reported[2], "text": "x"}
        Path(uri).write_text(json.dumps(row) + "\n")
    else:
        _, settings = make_app()
        uri = settings.prediction_store_url.get_secret_value()
    feedback = read_feedback(spark, uri)
    report = compare_models(
        spark, read_input(spark, str(directory)), served_plan, other_engine_challenger, feedback=feedback
    )

    assert report["texts"] == sum(len(r["texts"]) for r in responses)
    assert report["truth"] == "feedback"
    champion = report["models"]["champion"]["metrics"]
    assert champion["labelled"] == 1  # only the reported text has a true label
    logged = responses[0]["predictions"][1]["label"]  # HAM, as the service answered: a missed spam per the report
    assert champion["spam_recall"] == (1.0 if logged == "spam" else 0.0)


def _count(predictions, truth) -> dict:
    counts: dict = {}
    for p, y in zip(predictions, truth, strict=True):
        counts[(p.label, y)] = counts.get((p.label, y), 0) + 1
    return counts
