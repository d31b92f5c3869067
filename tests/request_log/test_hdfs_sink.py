"""HdfsRequestLogSink against the WebHDFS test server: spool first, ship in order, lose nothing through faults."""

import asyncio
import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from spam_service.request_log import HdfsRequestLogSink
from spam_service.request_log.webhdfs import HdfsFiles

LOG_DIR = "/logs/spam-service"


def make_sink(webhdfs, spool: Path, **options) -> HdfsRequestLogSink:
    files = HdfsFiles(webhdfs.url, user="spam", timeout=2)
    options = {"flush_interval": 0.1, "max_backoff": 0.5, **options}
    return HdfsRequestLogSink(files, log_dir=LOG_DIR, spool_dir=spool, **options)


def append_all(sink: HdfsRequestLogSink, records: list[dict]) -> None:
    async def run() -> None:
        await asyncio.gather(*(sink.append(r) for r in records))

    asyncio.run(run())


def hdfs_records(webhdfs) -> dict[str, list[dict]]:
    return {
        path: [json.loads(line) for line in data.decode().splitlines()] for path, data in webhdfs.files(LOG_DIR).items()
    }


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def spool_bytes(spool: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(spool.rglob("*.seg")))


def test_lines_reach_one_file_per_process_and_day_in_order(webhdfs, tmp_path):
    sink = make_sink(webhdfs, tmp_path / "spool")
    sink.start()
    for i in range(50):
        asyncio.run(sink.append({"n": i, "text": "ünïcode 😀"}))
    wait_for(lambda: sink.status().lines_written == 50)
    sink.close()
    (path, records), *others = hdfs_records(webhdfs).items()
    assert not others
    assert [r["n"] for r in records] == list(range(50)) and records[0]["text"] == "ünïcode 😀"
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert path == f"{LOG_DIR}/date={day}/{sink.file_name}"
    assert webhdfs.owner_of(path) == "spam"
    assert not list((tmp_path / "spool").rglob("*.seg")), "a finished, shipped file leaves nothing in the spool"


def test_a_line_is_in_the_spool_before_append_returns_even_with_hdfs_down(webhdfs, tmp_path):
    webhdfs.go_down()
    sink = make_sink(webhdfs, tmp_path / "spool")
    sink.start()
    asyncio.run(sink.append({"request_id": "r1"}))
    assert b'"request_id":"r1"' in spool_bytes(tmp_path / "spool")
    status = sink.status()
    assert status.ready and status.lines_waiting == 1
    sink.close(timeout=2)


def test_an_outage_loses_nothing_and_duplicates_nothing(webhdfs, tmp_path):
    sink = make_sink(webhdfs, tmp_path / "spool")
    sink.start()
    append_all(sink, [{"n": i} for i in range(100)])
    wait_for(lambda: sink.status().lines_written == 100)
    webhdfs.go_down()
    append_all(sink, [{"n": i} for i in range(100, 300)])
    wait_for(lambda: sink.status().connected is False)
    status = sink.status()
    assert status.lines_waiting == 200 and "cannot connect" in status.last_error
    assert status.errors >= 1  # failed shipping attempts
    webhdfs.come_up()
    wait_for(lambda: sink.status().lines_written == 300)
    assert sink.status().connected and sink.status().last_error is None
    assert sink.status().errors >= status.errors  # a count since start-up: recovery does not reset it
    sink.close()
    [records] = hdfs_records(webhdfs).values()
    assert [r["n"] for r in records] == list(range(300))


@pytest.mark.parametrize(
    "faults",
    [
        {"fail_next": 3, "fail_status": 503, "fail_exception": "RetriableException"},
        {"fail_next": 2, "fail_status": 500, "fail_exception": "IOException"},
        {"lease_conflicts": 3, "lease_exception": "AlreadyBeingCreatedException"},
        {"lease_conflicts": 3, "lease_exception": "RecoveryInProgressException"},
    ],
    ids=["503", "500", "lease-being-created", "lease-recovery"],
)
def test_server_errors_and_lease_conflicts_are_retried_until_every_line_lands_once(webhdfs, tmp_path, faults):
    sink = make_sink(webhdfs, tmp_path / "spool")
    sink.start()
    append_all(sink, [{"n": 0}])
    wait_for(lambda: sink.status().lines_written == 1)
    assert sink.status().errors == 0
    webhdfs.set_faults(**faults)
    append_all(sink, [{"n": i} for i in range(1, 40)])
    wait_for(lambda: sink.status().lines_written == 40)
    assert sink.status().errors >= 1  # each retried failure is counted
    sink.close()
    [records] = hdfs_records(webhdfs).values()
    assert [r["n"] for r in records] == list(range(40))


def test_a_slow_hdfs_does_not_slow_appends(webhdfs, tmp_path):
    webhdfs.set_faults(delay=1.5)
    sink = make_sink(webhdfs, tmp_path / "spool")
    sink.start()
    started = time.perf_counter()
    for i in range(20):
        asyncio.run(sink.append({"n": i}))
    assert time.perf_counter() - started < 1.0  # 20 appends while each HDFS call takes 1.5 s
    webhdfs.set_faults(delay=0.0)
    wait_for(lambda: sink.status().lines_written == 20)
    sink.close()


def test_close_ships_what_is_spooled(webhdfs, tmp_path):
    sink = make_sink(webhdfs, tmp_path / "spool", flush_interval=30)  # only close would ship
    sink.start()
    append_all(sink, [{"n": i} for i in range(25)])
    sink.close()
    [records] = hdfs_records(webhdfs).values()
    assert [r["n"] for r in records] == list(range(25))


def run_that_stops_during_an_outage(webhdfs, spool: Path, *, shipped: int, stranded: int) -> HdfsRequestLogSink:
    """A sink that ships `shipped` lines, loses HDFS, spools `stranded` more, and shuts down; HDFS then returns."""
    sink = make_sink(webhdfs, spool)
    sink.start()
    append_all(sink, [{"n": i} for i in range(shipped)])
    wait_for(lambda: sink.status().lines_written == shipped)
    webhdfs.go_down()
    append_all(sink, [{"n": i} for i in range(shipped, shipped + stranded)])
    started = time.monotonic()
    sink.close(timeout=10)
    assert time.monotonic() - started < 5, "an unreachable HDFS must not hold the shutdown"
    webhdfs.come_up()
    return sink


def test_close_with_hdfs_down_returns_promptly_and_the_next_start_ships_the_rest(webhdfs, tmp_path):
    spool = tmp_path / "spool"
    first = run_that_stops_during_an_outage(webhdfs, spool, shipped=10, stranded=20)

    second = make_sink(webhdfs, spool)  # a restart: same spool directory, new process file
    second.start()
    wait_for(lambda: not list(spool.rglob("*.seg")))
    append_all(second, [{"n": 100}])
    second.close()
    files = hdfs_records(webhdfs)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert [r["n"] for r in files[f"{LOG_DIR}/date={day}/{first.file_name}"]] == list(range(30))
    assert sorted(len(records) for records in files.values()) == [1, 30]


def test_a_spooled_file_partly_in_hdfs_resumes_where_hdfs_ends(webhdfs, tmp_path):
    """A crash between an append landing in HDFS and the spool learning it: the next run sends only the rest."""
    spool = tmp_path / "spool"
    run_that_stops_during_an_outage(webhdfs, spool, shipped=10, stranded=10)
    # Ship lines 10-14 behind the spool's back, as an append whose answer was lost would have.
    [path] = webhdfs.files(LOG_DIR)
    extra = b"".join(json.dumps({"n": i}, separators=(",", ":")).encode() + b"\n" for i in range(10, 15))
    HdfsFiles(webhdfs.url).append(path, extra)

    second = make_sink(webhdfs, spool)
    second.start()
    wait_for(lambda: not list(spool.rglob("*.seg")))
    second.close()
    assert [r["n"] for r in hdfs_records(webhdfs)[path]] == list(range(20))


def test_spool_segments_roll_and_shipped_ones_are_deleted(webhdfs, tmp_path):
    spool = tmp_path / "spool"
    sink = make_sink(webhdfs, spool, segment_bytes=200, max_chunk_bytes=150)
    sink.start()
    webhdfs.go_down()
    append_all(sink, [{"n": i, "pad": "x" * 20} for i in range(30)])
    assert len(list(spool.rglob("*.seg"))) >= 4  # ~1.1 kB of lines in segments that roll after ~200 bytes
    webhdfs.come_up()
    wait_for(lambda: sink.status().lines_written == 30)
    assert len(list(spool.rglob("*.seg"))) == 1  # only the segment still being written
    sink.close()
    [records] = hdfs_records(webhdfs).values()
    assert [r["n"] for r in records] == list(range(30))


def test_two_sinks_on_one_spool_directory_never_share_a_file(webhdfs, tmp_path):
    spool = tmp_path / "spool"
    first, second = make_sink(webhdfs, spool), make_sink(webhdfs, spool)
    first.start()
    second.start()
    append_all(first, [{"who": "first", "n": i} for i in range(20)])
    append_all(second, [{"who": "second", "n": i} for i in range(20)])
    first.close()
    second.close()
    files = hdfs_records(webhdfs)
    assert len(files) == 2
    for records in files.values():
        assert len({r["who"] for r in records}) == 1 and [r["n"] for r in records] == list(range(20))


def test_a_large_spool_is_warned_about(webhdfs, tmp_path, caplog):
    webhdfs.go_down()
    sink = make_sink(webhdfs, tmp_path / "spool", spool_warn_bytes=500)
    sink.start()
    with caplog.at_level("WARNING", logger="spam_service.request_log.hdfs_sink"):
        append_all(sink, [{"n": i, "pad": "x" * 50} for i in range(20)])
        wait_for(lambda: "over SPOOL_WARN_BYTES" in caplog.text)
    sink.close(timeout=1)


class SteppingClock:
    """A day clock for the sink: one day later every millisecond while `running`; `set` holds it on one day."""

    def __init__(self, first: date) -> None:
        self.first = first
        self.held: date | None = first
        self.started = 0.0

    def run(self) -> None:
        self.started, self.held = time.monotonic(), None

    def set(self, day: date) -> None:
        self.held = day

    def __call__(self) -> str:
        if self.held is not None:
            return self.held.isoformat()
        return (self.first + timedelta(days=int((time.monotonic() - self.started) * 1000))).isoformat()


def test_midnight_every_millisecond_and_a_clock_stepping_back_keep_every_line_once(webhdfs, tmp_path):
    """Batches holding lines of two days, files finished and removed while the shipper ships, then lines for a
    day whose file is long complete. Before: the journal died of a KeyError (a finished file removed under a
    batch), and the day written to again restarted its spool at offset 0 (the file was then 'broken')."""
    clock = SteppingClock(date(2031, 1, 1))
    spool = tmp_path / "spool"
    sink = make_sink(webhdfs, spool, flush_interval=0.005, flush_bytes=1, fsync=True, day=clock)
    sink.start()
    sent: list[int] = []

    async def writer(number: int, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            record = number * 100_000 + n
            await asyncio.wait_for(sink.append({"n": record}), timeout=10)  # before: hung once the journal died
            sent.append(record)
            n += 1

    async def write_for(seconds: float) -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(writer(i, until) for i in range(8)))

    asyncio.run(write_for(0.3))  # the first day alone
    first_day = list(sent)
    clock.run()
    asyncio.run(write_for(1.0))
    wait_for(lambda: not (spool / "date=2031-01-01").exists())  # the first day's file: complete, spool removed
    clock.set(date(2031, 1, 1))  # back across many midnights
    flipped = len(sent)
    asyncio.run(write_for(0.3))
    stepped_back = sent[flipped:]
    wait_for(lambda: sink.status().lines_written == len(sent), timeout=30)
    status = sink.status()
    sink.close()
    assert status.broken == () and status.last_error is None
    assert [t.status().crashes for t in sink.threads()] == [0, 0]
    files = hdfs_records(webhdfs)
    assert len(files) > 20, "the day should have changed under many batches"
    shipped = [r["n"] for records in files.values() for r in records]
    assert sorted(shipped) == sorted(sent), "every line in HDFS exactly once"
    first_file = [r["n"] for r in files[f"{LOG_DIR}/date=2031-01-01/{sink.file_name}"]]
    assert first_file[: len(first_day)] == first_day and set(stepped_back) <= set(first_file)
    assert not list(spool.rglob("*.seg"))


def test_an_append_that_times_out_and_lands_late_is_not_duplicated(webhdfs, tmp_path):
    files = HdfsFiles(webhdfs.url, user="spam", timeout=0.5)
    sink = HdfsRequestLogSink(files, log_dir=LOG_DIR, spool_dir=tmp_path / "spool", flush_interval=0.1, max_backoff=0.5)
    sink.start()
    append_all(sink, [{"n": 0}])
    wait_for(lambda: sink.status().lines_written == 1)
    # The next append lands after the client gave up, right after the sink measured the file without it.
    webhdfs.set_faults(late_appends=1)
    append_all(sink, [{"n": i} for i in range(1, 20)])
    wait_for(lambda: webhdfs.faults.late_appends == 0)
    append_all(sink, [{"n": i} for i in range(20, 30)])  # more lines: the resent chunk differs from the late one
    wait_for(lambda: sink.status().lines_written == 30)
    sink.close()
    [records] = hdfs_records(webhdfs).values()
    assert [r["n"] for r in records] == list(range(30))
    assert ("namenode", "POST", "TRUNCATE") in {r[:3] for r in webhdfs.requests}  # the duplicate was cut


def test_a_broken_file_stays_visible_while_other_files_ship(webhdfs, tmp_path):
    day = {"today": "2031-01-01"}
    sink = make_sink(webhdfs, tmp_path / "spool", day=lambda: day["today"])
    # Someone else's bytes where this process's file must go: it cannot be shipped without an operator.
    HdfsFiles(webhdfs.url).create(f"{LOG_DIR}/date=2031-01-01/{sink.file_name}", b'{"someone":"else"}\n' * 5)
    sink.start()
    append_all(sink, [{"n": 0}])
    wait_for(lambda: sink.status().broken)
    day["today"] = "2031-01-02"
    append_all(sink, [{"n": 1}])
    wait_for(lambda: sink.status().lines_written == 1)  # the next day's file ships
    time.sleep(0.3)  # more successful rounds
    status = sink.status()
    sink.close(timeout=1)
    [broken] = status.broken
    assert broken.startswith(f"date=2031-01-01/{sink.file_name}: ") and "someone else" in broken
    assert status.last_error and "someone else" in status.last_error  # before: cleared by the next success
    assert status.ready and status.connected and status.lines_waiting == 1
    assert [r["n"] for r in hdfs_records(webhdfs)[f"{LOG_DIR}/date=2031-01-02/{sink.file_name}"]] == [1]


def test_a_file_with_a_permanent_error_does_not_hold_back_the_newer_ones(webhdfs, tmp_path):
    day = {"today": "2031-01-01"}
    sink = make_sink(webhdfs, tmp_path / "spool", day=lambda: day["today"])
    webhdfs.set_faults(denied=[f"{LOG_DIR}/date=2031-01-01"])  # no write permission on that day's directory
    sink.start()
    append_all(sink, [{"n": 0}])
    day["today"] = "2031-01-02"
    append_all(sink, [{"n": 1}])
    wait_for(lambda: sink.status().lines_written == 1)  # before: the older file's error ended every round
    assert "AccessControlException" in sink.status().last_error and sink.status().lines_waiting == 1
    webhdfs.set_faults(denied=[])  # an operator fixes the permissions
    wait_for(lambda: sink.status().lines_written == 2)
    sink.close()
    files = hdfs_records(webhdfs)
    assert [[r["n"] for r in records] for _, records in sorted(files.items())] == [[0], [1]]


def test_the_journal_and_the_shipper_are_supervised_threads(webhdfs, tmp_path):
    sink = make_sink(webhdfs, tmp_path / "spool")
    assert [t.name for t in sink.threads()] == ["request-log-spool", "request-log-shipper"]
    sink.start()
    assert all(t.status().alive and t.status().crashes == 0 for t in sink.threads())
    sink.close()
    assert not any(t.alive for t in sink.threads())
