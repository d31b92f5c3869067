"""Reading inputs: formats told by name, the request log exploded per text, and clear errors for bad input."""

import json
from pathlib import Path

import pytest

from spam_service.batch.errors import BatchUsageError
from spam_service.batch.inputs import format_of, read_input


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("part-00000.snappy.parquet", "parquet"),
        ("texts.csv", "csv"),
        ("requests-2026-11-30.jsonl", "json"),
        ("hdfs://nn:8020/logs/date=2026-11-30/host-1-ab.jsonl.gz", "json"),
        ("dump.ndjson", "json"),
        ("notes.txt", None),
    ],
)
def test_the_format_is_told_by_the_file_name(name, fmt):
    assert format_of(name) == fmt


def test_the_request_log_is_one_row_per_text_with_its_request_and_position(spark, request_log):
    directory, responses = request_log
    frame = read_input(spark, str(directory)).frame
    rows = sorted(frame.collect(), key=lambda r: (r["request_id"], r["text_index"]))

    expected = sorted((r["request_id"], i, t) for r in responses for i, t in enumerate(r["texts"]))
    assert [(r["request_id"], r["text_index"], r["text"]) for r in rows] == expected  # the feedback line is not a text
    assert {r["logged_model_version"] for r in rows} == {responses[0]["model"]["version"]}
    assert all(r["timestamp"] and r["logged_label"] in ("spam", "ham") for r in rows)


def test_a_missing_path_is_a_usage_error_naming_it(spark, tmp_path):
    with pytest.raises(BatchUsageError, match=r"--input .*/nowhere: no such file or directory"):
        read_input(spark, str(tmp_path / "nowhere"))


def test_a_missing_column_is_a_usage_error_listing_the_columns_there(spark, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text(json.dumps({"body": "hello"}) + "\n", encoding="utf-8")
    with pytest.raises(BatchUsageError, match=r"--text-column message: .* has no such column \(it has: body\)"):
        read_input(spark, str(path), text_column="message")


def test_a_column_that_is_not_text_is_refused(spark, tmp_path):
    path = tmp_path / "texts.jsonl"
    path.write_text(json.dumps({"text": 42}) + "\n", encoding="utf-8")
    with pytest.raises(BatchUsageError, match="a bigint column, not text"):
        read_input(spark, str(path))


def test_a_file_whose_format_cannot_be_told_asks_for_format(spark, tmp_path: Path):
    (tmp_path / "texts.txt").write_text("hello\n", encoding="utf-8")
    with pytest.raises(BatchUsageError, match="pass --format"):
        read_input(spark, str(tmp_path / "texts.txt"))
