"""The output is committed whole by one rename, or not at all."""

import dataclasses
from pathlib import Path

import pytest

from spam_service.batch.errors import BatchError, BatchUsageError
from spam_service.batch.output import commit_parquet
from spam_service.batch.scoring import score_frame


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_an_existing_output_is_refused_and_kept(spark, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("earlier result")
    frame = spark.createDataFrame([("hello",)], "text STRING")
    with pytest.raises(BatchUsageError, match="exists already: choose another path, or pass --overwrite"):
        commit_parquet(spark, frame, str(tmp_path / "out"))
    assert leftovers(tmp_path) == ["out"] and leftovers(tmp_path / "out") == ["keep.txt"]


def test_overwrite_replaces_an_existing_output_at_commit(spark, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.parquet").write_text("earlier result")
    frame = spark.createDataFrame([("hello",), ("bye",)], "text STRING")
    committed = commit_parquet(spark, frame, str(tmp_path / "out"), overwrite=True)
    assert committed.rows == 2
    assert "old.parquet" not in leftovers(tmp_path / "out")
    assert leftovers(tmp_path) == ["out"]


def test_a_job_that_fails_in_the_workers_leaves_nothing_behind(spark, served_plan, tmp_path):
    broken = dataclasses.replace(served_plan, directory=str(tmp_path / "no-model"))  # the executors lack it
    frame = spark.createDataFrame([("hello",)], "text STRING")
    with pytest.raises(BatchError, match=r"writing .*/out: .*no model at .*no-model"):
        commit_parquet(spark, score_frame(frame, "text", [("", broken)]), str(tmp_path / "out"))
    assert leftovers(tmp_path) == []  # neither the output nor its temporary directory
