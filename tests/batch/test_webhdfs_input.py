"""A request log on HDFS, read by Hadoop's own WebHDFS client inside Spark from the WebHDFS test server, and the
scored rows written back to it (committed by a WebHDFS RENAME)."""

import pytest

from spam_service.batch.inputs import read_input
from spam_service.batch.output import commit_parquet
from spam_service.batch.scoring import score_frame, spread

LOG_DIR = "/logs/spam-service"


def test_a_request_log_is_read_over_webhdfs_scored_as_the_service_answered_and_written_back(
    spark, served_plan, request_log, webhdfs
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
    output = f"webhdfs://127.0.0.1:{webhdfs.port}/scored/{day}"
    committed = commit_parquet(spark, scored, output, partition_by=["date"])

    rows = spark.read.parquet(output).collect()
    answered = {(r["request_id"], i): p for r in responses for i, p in enumerate(r["predictions"])}
    assert committed.rows == len(rows) == len(answered)
    written = list(webhdfs.files("/scored"))
    assert f"/scored/{day}/_SUCCESS" in written  # committed whole: no temporary directory left beside it
    assert all(p.startswith(f"/scored/{day}/") for p in written)
    assert any(p.startswith(f"/scored/{day}/date={day}/part-") for p in written)  # partitioned by the log's day
    for row in rows:
        http = answered[(row["request_id"], row["text_index"])]
        assert str(row["date"]) == day
        assert row["predicted_label"] == http["label"]
        assert row["spam_probability"] == pytest.approx(http["spam_probability"], abs=1e-6)
    # Hadoop's client asked for statuses, listings and block locations, read through the datanode, wrote there,
    # and the commits (Spark's, then ours) renamed.
    asked = {(role, op) for role, _, op, _ in webhdfs.requests}
    assert {("namenode", "GETFILESTATUS"), ("namenode", "LISTSTATUS"), ("namenode", "GETFILEBLOCKLOCATIONS")} <= asked
    assert {("namenode", "OPEN"), ("datanode", "OPEN"), ("datanode", "CREATE"), ("namenode", "RENAME")} <= asked
