"""FileRequestLogSink: order, flush on close, and surviving a failing disk without losing lines."""

import json
import time
from pathlib import Path

from spam_service.request_log import FileRequestLogSink


def lines_in(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("requests-*.jsonl")) for line in path.open()]


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_close_writes_every_queued_record_in_order(tmp_path):
    sink = FileRequestLogSink(tmp_path)
    sink.start()
    for i in range(5000):
        sink.append({"n": i, "text": 'emoji 😀 and "quotes"\nnewline'})
    sink.close()
    records = lines_in(tmp_path)
    assert [r["n"] for r in records] == list(range(5000))
    assert records[0]["text"] == 'emoji 😀 and "quotes"\nnewline'
    status = sink.status()
    assert status.lines_written == 5000 and status.lines_waiting == 0


def test_lines_are_written_without_waiting_for_close(tmp_path):
    sink = FileRequestLogSink(tmp_path, flush_interval=0.05)
    sink.start()
    sink.append({"n": 1})
    wait_for(lambda: len(lines_in(tmp_path)) == 1)
    assert sink.status().ready
    sink.close()


def test_a_failing_directory_keeps_lines_and_writes_them_once_it_recovers(tmp_path):
    target = tmp_path / "logs"
    target.write_text("a file blocks the directory")
    sink = FileRequestLogSink(target, flush_interval=0.05)
    sink.start()
    for i in range(3):
        sink.append({"n": i})
    wait_for(lambda: sink.status().last_error is not None)
    status = sink.status()
    assert not status.ready and status.lines_waiting == 3 and str(target) in status.last_error
    target.unlink()  # the disk recovers
    wait_for(lambda: sink.status().lines_written == 3)
    assert sink.status().ready and sink.status().last_error is None
    sink.append({"n": 3})
    sink.close()
    assert [r["n"] for r in lines_in(target)] == [0, 1, 2, 3]
