"""FileRequestLogSink: a line is on disk when `append` returns; order; a failing disk loses nothing."""

import asyncio
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


def test_a_line_is_in_the_file_when_append_returns(tmp_path):
    sink = FileRequestLogSink(tmp_path)
    sink.start()
    try:
        asyncio.run(sink.append({"n": 1, "text": 'emoji 😀 and "quotes"\nnewline'}))
        assert lines_in(tmp_path) == [{"n": 1, "text": 'emoji 😀 and "quotes"\nnewline'}]
        assert sink.status().ready and sink.status().lines_written == 1
    finally:
        sink.close()


def test_concurrent_appends_are_all_written_once(tmp_path):
    sink = FileRequestLogSink(tmp_path)
    sink.start()

    async def many() -> None:
        await asyncio.gather(*(sink.append({"n": i}) for i in range(2000)))

    asyncio.run(many())
    sink.close()
    assert sorted(r["n"] for r in lines_in(tmp_path)) == list(range(2000))
    status = sink.status()
    assert status.lines_written == 2000 and status.lines_waiting == 0


def test_a_failing_directory_keeps_lines_and_writes_them_once_it_recovers(tmp_path):
    target = tmp_path / "logs"
    target.write_text("a file blocks the directory")
    sink = FileRequestLogSink(target)
    sink.start()

    async def append_three() -> None:
        for i in range(3):
            await asyncio.wait_for(sink.append({"n": i}), timeout=5)  # released, not stuck, while the disk fails

    asyncio.run(append_three())
    wait_for(lambda: sink.status().last_error is not None)
    status = sink.status()
    assert not status.ready and status.lines_waiting == 3 and str(target) in status.last_error
    assert status.errors >= 1  # each failed attempt is counted
    target.unlink()  # the disk recovers
    wait_for(lambda: sink.status().lines_written == 3)
    assert sink.status().ready and sink.status().last_error is None
    assert sink.status().errors >= status.errors
    asyncio.run(sink.append({"n": 3}))
    sink.close()
    assert [r["n"] for r in lines_in(target)] == [0, 1, 2, 3]
