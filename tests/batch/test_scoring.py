"""Scoring in mapInPandas labels every text exactly as the service does, whatever the input format."""

from pathlib import Path

import pandas as pd
import pytest

from spam_service.batch.inputs import read_input
from spam_service.batch.output import commit_parquet
from spam_service.batch.scoring import PREDICTION_COLUMNS, score_frame, spread
from spam_service.model.classifier import SpamClassifier


def write_texts(directory: Path, fmt: str, texts: list[str]) -> Path:
    frame = pd.DataFrame({"id": range(len(texts)), "message": texts})
    path = directory / f"texts.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_each_input_format_is_scored_with_the_services_labels_and_probabilities(
    fmt, spark, served_plan, trained_classifier: SpamClassifier, sample_texts, tmp_path
):
    path = write_texts(tmp_path, fmt, sample_texts)
    texts = read_input(spark, str(path), text_column="message")
    scored = score_frame(spread(texts.frame, 3), "message", [("", served_plan)])
    committed = commit_parquet(spark, scored, str(tmp_path / "out"))

    result = pd.read_parquet(tmp_path / "out")
    result = result.assign(id=result["id"].astype(int)).sort_values("id")  # CSV columns come back as strings
    assert committed.rows == len(sample_texts) == len(result)
    # The texts came through the format unchanged, but CSV cannot tell an empty field from a missing one: null.
    sent = [None if fmt == "csv" and not text else text for text in sample_texts]
    assert [None if pd.isna(text) else text for text in result["message"]] == sent
    assert list(result.columns) == ["id", "message", *(name for name, _ in PREDICTION_COLUMNS)]
    scored = result[result["message"].notna()]
    expected = trained_classifier.predict(scored["message"].tolist())
    assert scored["predicted_label"].tolist() == [p.label for p in expected]
    assert scored["spam_probability"].tolist() == pytest.approx([p.spam_probability for p in expected], abs=1e-6)
    assert scored["transformer_probability"].tolist() == pytest.approx(
        [p.transformer_probability for p in expected], abs=1e-6
    )
    assert result[result["message"].isna()]["predicted_label"].isna().all()
    assert set(result["model_version"]) == {trained_classifier.version}
    assert set(result["model_name"]) == {trained_classifier.name}
    assert "spam" in set(result["predicted_label"]) and "ham" in set(result["predicted_label"])


def test_null_texts_get_null_predictions_and_the_rest_are_scored(spark, served_plan, tmp_path):
    frame = spark.createDataFrame(
        [(1, "WINNER!! claim your cash prize now, txt WIN"), (2, None)], "id INT, text STRING"
    )
    rows = {row["id"]: row for row in score_frame(frame, "text", [("", served_plan)]).collect()}
    assert rows[1]["predicted_label"] == "spam" and rows[1]["spam_probability"] > 0.5
    assert rows[2]["predicted_label"] is None and rows[2]["spam_probability"] is None


def test_the_request_log_is_rescored_as_the_service_answered_over_http(spark, served_plan, request_log):
    directory, responses = request_log
    texts = read_input(spark, str(directory))
    assert texts.format == "request-log"
    rows = score_frame(texts.frame, "text", [("", served_plan)]).collect()

    answered = {
        (r["request_id"], i): p for r in responses for i, p in enumerate(r["predictions"])
    }  # what /predict returned
    assert {(row["request_id"], row["text_index"]) for row in rows} == set(answered)
    for row in rows:
        http = answered[(row["request_id"], row["text_index"])]
        assert row["predicted_label"] == http["label"] == row["logged_label"]
        assert row["spam_probability"] == pytest.approx(http["spam_probability"], abs=1e-6)
        assert row["spam_probability"] == pytest.approx(row["logged_spam_probability"], abs=1e-6)
