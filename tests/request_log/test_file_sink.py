"""FileRequestLogSink: a line is on disk when `append` returns; order; a failing disk refuses requests (503)."""

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from spam_service.errors import UnavailableError
from spam_service.request_log import FileRequestLogSink
from tests.support.live_server import free_port


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


def test_a_failing_directory_refuses_requests_until_it_recovers_and_keeps_nothing_for_later(tmp_path):
    target = tmp_path / "logs"
    target.write_text("a file blocks the directory")
    sink = FileRequestLogSink(target)
    sink.start()
    with pytest.raises(UnavailableError) as refused:
        asyncio.run(asyncio.wait_for(sink.append({"n": 0}), timeout=5))  # refused, not answered as if stored
    assert refused.value.retry_after >= 1
    status = sink.status()
    assert not status.ready and str(target) in status.last_error and status.errors == 1
    assert status.lines_waiting == 0  # nothing held in memory: the client still has its line
    target.unlink()  # the disk recovers
    wait_for(lambda: append_or_refuse(sink, {"n": 1}))
    assert sink.status().ready and sink.status().last_error is None and sink.status().lines_written == 1
    sink.close()
    assert [r["n"] for r in lines_in(target)] == [1]


def append_or_refuse(sink: FileRequestLogSink, record: dict) -> bool:
    try:
        asyncio.run(asyncio.wait_for(sink.append(record), timeout=5))
    except UnavailableError:
        return False
    return True


def test_lines_go_to_the_file_of_the_day_the_clock_says(tmp_path):
    days = iter(["2030-12-31", "2031-01-01"])
    sink = FileRequestLogSink(tmp_path, day=lambda: next(days))
    sink.start()
    asyncio.run(sink.append({"n": 1}))
    asyncio.run(sink.append({"n": 2}))
    sink.close()
    assert (tmp_path / "requests-2030-12-31.jsonl").read_text() == '{"n":1}\n'
    assert (tmp_path / "requests-2031-01-01.jsonl").read_text() == '{"n":2}\n'
    [journal] = sink.threads()
    assert journal.name == "request-log-file" and not journal.alive


FSIZE_LIMIT = 1 << 20


def test_a_file_size_limit_turns_into_503s_and_no_answered_request_lacks_its_line(tiny_bert_dir, tmp_path):
    """The service under `prlimit --fsize`: once the log file cannot grow (EFBIG; Python ignores SIGXFSZ), requests
    get 503 with Retry-After, and every request answered 200 has its line, whole, in the file."""
    logs = tmp_path / "logs"
    logs.mkdir()
    filler = b'{"filler":"' + b"x" * 1000 + b'"}\n'
    for day in (time.gmtime(), time.gmtime(time.time() + 86400)):  # today's file, and tomorrow's near midnight
        path = logs / f"requests-{time.strftime('%Y-%m-%d', day)}.jsonl"
        path.write_bytes(filler * ((FSIZE_LIMIT - 4000) // len(filler)))  # room left for a few lines only
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "HDFS_"))},
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MODEL_DIR": str(tiny_bert_dir),
        "MAX_TOKENS": "32",
        "INFERENCE_THREADS": "1",
        "REQUEST_LOG_DIR": str(logs),
        "PREDICTION_STORE_URL": f"sqlite:///{tmp_path / 'predictions.sqlite3'}",  # small: far below the limit
    }
    with (tmp_path / "service.log").open("w") as output:
        service = subprocess.Popen(
            ["prlimit", f"--fsize={FSIZE_LIMIT}", sys.executable, "-m", "spam_service"],
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: ready(url, service, tmp_path / "service.log"), timeout=90)
        answered, refused, state = [], [], None
        for i in range(40):
            response = httpx.post(f"{url}/predict", json={"text": [f"message {i} " + "y" * 200]}, timeout=30)
            if response.status_code == 200:
                answered.append(response.json()["request_id"])
            else:
                assert response.status_code == 503, response.text
                refused.append(int(response.headers["retry-after"]))
                if state is None:
                    # Right after the first refusal, a failed write has just started the back-off (>= 1 s); after a
                    # later one the back-off may end before /ready is asked, and then the service is ready again.
                    state = httpx.get(f"{url}/ready", timeout=5)
    finally:
        service.terminate()
        service.wait(timeout=60)
    print(f"full disk: {len(answered)} answered 200 while the file could grow, then {len(refused)} x 503")  # pytest -s
    assert answered and len(refused) >= 10, (len(answered), refused)
    assert all(seconds >= 1 for seconds in refused)
    assert state.status_code == 503 and "File too large" in state.json()["request_log"]["last_error"]
    logged = [json.loads(line) for path in sorted(logs.glob("*.jsonl")) for line in path.read_bytes().splitlines()]
    assert all(path.stat().st_size <= FSIZE_LIMIT for path in logs.glob("*.jsonl"))
    assert set(answered) <= {r.get("request_id") for r in logged}, "a request answered 200 lacks its line"


def ready(url: str, service: subprocess.Popen, output: Path) -> bool:
    assert service.poll() is None, f"the service exited: {output.read_text()[-3000:]}"
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
