"""A request log on HDFS, read by Hadoop's own WebHDFS client inside Spark from the WebHDFS test server."""

import pytest

from spam_service.batch.inputs import read_input
from spam_service.batch.output import commit_parquet
from spam_service.batch.scoring import score_frame, spread

LOG_DIR = "/logs/spam-service"


def test_a_request_log_is_read_over_webhdfs_and_scored_as_the_service_answered(
    spark, served_plan, request_log, webhdfs, tmp_path
):
    directory, responses = request_log
    day = "2026-11-30"
    for number, path in enumerate(sorted(directory.glob("*.jsonl"))):
        # As the HDFS sink lays it out: one file per process per day under date=YYYY-MM-DD/.
        webhdfs.put_file(f"{LOG_DIR}/date={day}/host-{number}-abcd.jsonl", path.read_bytes())
    webhdfs.put_file(f"{LOG_DIR}/date={day}/_SUCCESS", b"")  # hidden names are skipped, as Spark does

    uri = f"webhdfs://127.0.0.1:{webhdfs.port}{LOG_DIR}"
    texts = read_input(spark, uri)
    assert texts.format == "request-log"
    scored = score_frame(spread(texts.frame, 2), "text", [("", served_plan)])
    committed = commit_parquet(spark, scored, str(tmp_path / "out"), partition_by=["date"])

    rows = spark.read.parquet(str(tmp_path / "out")).collect()
    answered = {(r["request_id"], i): p for r in responses for i, p in enumerate(r["predictions"])}
    assert committed.rows == len(rows) == len(answered)
    assert (tmp_path / "out" / f"date={day}").is_dir()  # partitioned by the log's day
    for row in rows:
        http = answered[(row["request_id"], row["text_index"])]
        assert str(row["date"]) == day
        assert row["predicted_label"] == http["label"]
        assert row["spam_probability"] == pytest.approx(http["spam_probability"], abs=1e-6)
    # Hadoop's client asked the namenode for status and listings, and read the files through the datanode.
    asked = {(role, op) for role, _, op, _ in webhdfs.requests}
    assert {
        ("namenode", "GETFILESTATUS"),
        ("namenode", "LISTSTATUS"),
        ("namenode", "OPEN"),
        ("datanode", "OPEN"),
    } <= asked
