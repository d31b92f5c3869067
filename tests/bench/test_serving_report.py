"""bench/serving.py's arguments and report: load points as typed, ratios against the naive server, infinity-emb and
the measured limit."""

import argparse

import pytest
from bench.serving import SETTLE_MAX_S, Point, ServerRun, parse_points, settle_s, tables


def wrk_result(point: str, texts_per_s: float) -> dict:
    latency = {"p50": 5.0, "p95": 9.0, "p99": 12.0, "max": 20.0, "mean": 6.0}
    socket_errors = {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    return {"point": point, "texts_per_s": texts_per_s, "requests_per_s": texts_per_s, "latency_ms": latency,
            "non_2xx": 0, "socket_errors": socket_errors, "cpu_percent": 1.0}  # fmt: skip


def test_points_are_texts_per_request_times_clients() -> None:
    assert parse_points("1x1, 1x32,16x8") == [Point(1, 1), Point(1, 32), Point(16, 8)]
    for bad in ("1x0", "8", "1x8,", "ax2"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_points(bad)


def test_the_report_gives_each_system_a_row_and_each_point_its_ratios() -> None:
    points = [Point(1, 1), Point(16, 8)]
    runs = {
        "service": ServerRun("service", ready_s=1.5, peak_rss_mb=300.0,
                             points=[wrk_result("1x1", 100.0), wrk_result("16x8", 600.0)]),
        "naive": ServerRun("naive", ready_s=6.0, peak_rss_mb=900.0,
                           points=[wrk_result("1x1", 50.0), wrk_result("16x8", 75.0)]),
        "infinity": ServerRun("infinity", ready_s=30.0, peak_rss_mb=800.0,
                              points=[wrk_result("1x1", 40.0), wrk_result("16x8", 120.0)]),
    }  # fmt: skip
    report = tables(points, runs, limit=800.0)

    assert "| system | 1 client | 16 texts x 8 clients | ready s | peak RSS MB |" in report
    cells = "100.0, p50 5.0 ms, p99 12.0 ms | 600.0, p50 5.0 ms, p99 12.0 ms | 1.50 | 300.0"
    assert f"| this service, defaults | {cells} |" in report
    assert "| 1x1 | 2.00x | 2.50x | 0.12x |" in report
    assert "| 16x8 | 8.00x | 5.00x | 0.75x |" in report


def test_a_skipped_system_leaves_its_ratios_empty() -> None:
    runs = {"service": ServerRun("service", points=[wrk_result("1x8", 300.0)])}
    assert "| 1x8 | - | - | 0.50x |" in tables([Point(1, 8)], runs, limit=600.0)


def test_the_pause_after_a_warm_up_lasts_as_long_as_the_requests_it_left_in_flight() -> None:
    # 8 connections x 16 texts at 64 texts/s: 2 s of work, with a margin
    assert settle_s(Point(16, 8), {"texts_per_s": 64.0}) == pytest.approx(1.2 * 2 + 0.1)
    assert settle_s(Point(16, 8), {"texts_per_s": 0.0}) == SETTLE_MAX_S  # nothing came back: the longest pause
    assert settle_s(Point(16, 32), {"texts_per_s": 1.0}) == SETTLE_MAX_S
