"""bench/'s load generator: `wrk` with `bench/wrk_bodies.lua`, against a small HTTP server in this test that records
what it received and answers some requests with 429, so the bodies, the status counts and the figures the table
is made of are checked against what really went over the wire."""

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bench.wrk import Load, WrkError, parse_result, run_wrk, write_texts

MESSAGES = ["free prize now", 'say "hi"\nto mum', "café à 5 €", "ok"]
REFUSE_EVERY = 4  # every 4th request gets 429
ANSWER_DELAY_S = 0.002


class RecordingServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.lock = threading.Lock()
        self.bodies: list[dict] = []
        self.paths: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    server: RecordingServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.bodies.append(body)
            self.server.paths[self.path] += 1
            status = 429 if len(self.server.bodies) % REFUSE_EVERY == 0 else 200
            self.server.statuses[status] += 1
        threading.Event().wait(ANSWER_DELAY_S)
        answer = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_write_texts_cycles_through_the_messages_k_at_a_time(tmp_path: Path) -> None:
    lines = write_texts(tmp_path / "texts.jsonl", MESSAGES, 3).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        [MESSAGES[0], MESSAGES[1], MESSAGES[2]],
        [MESSAGES[3], MESSAGES[0], MESSAGES[1]],
        [MESSAGES[2], MESSAGES[3], MESSAGES[0]],
        [MESSAGES[1], MESSAGES[2], MESSAGES[3]],
    ]


def test_wrk_sends_every_prepared_body_and_counts_statuses_latency_and_texts(
    server: RecordingServer, tmp_path: Path
) -> None:
    texts = write_texts(tmp_path / "texts.jsonl", MESSAGES, 2)
    url = f"http://127.0.0.1:{server.server_address[1]}/predict"
    result = run_wrk(Load(url, texts, texts_per_request=2, clients=4, seconds=2))

    expected_bodies = [{"text": json.loads(line)} for line in texts.read_text(encoding="utf-8").splitlines()]
    assert all(body in expected_bodies for body in server.bodies)  # the texts arrive intact (quotes, \n, UTF-8)
    assert all(body in server.bodies for body in expected_bodies)  # and every prepared request is sent
    assert set(server.paths) == {"/predict"}

    # wrk does not count the answers still in flight when it stops: at most one per connection.
    ok, refused = server.statuses[200], server.statuses[429]
    assert result["statuses"].keys() <= {200, 429}
    assert ok - 4 <= result["ok"] == result["statuses"][200] <= ok
    assert refused - 4 <= result["non_2xx"] == result["statuses"].get(429, 0) <= refused
    assert result["non_2xx"] > 0 and result["requests"] == result["ok"] + result["non_2xx"]
    assert result["texts_per_s"] == pytest.approx(2 * result["ok"] / result["duration_s"], rel=0.01)
    assert result["requests_per_s"] == pytest.approx(result["requests"] / result["duration_s"], rel=0.01)
    assert 1.9 <= result["duration_s"] <= 2.5

    latency = result["latency_ms"]
    assert ANSWER_DELAY_S * 1000 <= latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert latency["mean"] <= latency["max"]
    assert result["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert 0 < result["cpu_percent"] < 100  # wrk's own CPU, measured from its rusage


def test_wrk_sends_infinity_classify_bodies(server: RecordingServer, tmp_path: Path) -> None:
    texts = write_texts(tmp_path / "texts.jsonl", MESSAGES, 1)
    url = f"http://127.0.0.1:{server.server_address[1]}/classify"
    result = run_wrk(Load(url, texts, 1, clients=1, seconds=1, body_format="infinity", model="/models/spam"))

    assert result["requests"] > 0
    assert all(body == {"model": "/models/spam", "input": [body["input"][0]]} for body in server.bodies)
    assert {body["input"][0] for body in server.bodies} == set(MESSAGES)
    assert set(server.paths) == {"/classify"}


def test_a_wrk_output_without_the_result_line_is_an_error() -> None:
    with pytest.raises(WrkError, match="no WRK_BENCH_RESULT line"):
        parse_result("Running 1s test @ http://127.0.0.1:1/predict\n  0 requests in 1.00s\n")


def test_a_run_with_no_answer_in_its_window_has_no_latencies_rather_than_zeros() -> None:
    line = (
        'WRK_BENCH_RESULT {"requests":0,"duration_s":2.001,"statuses":{},"ok":0,"non_2xx":0,'
        '"socket_errors":{"connect":0,"read":0,"write":0,"timeout":0},'
        '"latency_ms":{"p50":0.000,"p95":0.000,"p99":0.000,"max":0.000,"mean":0.000},'
        '"texts_per_request":16,"texts_per_s":0.00,"requests_per_s":0.00}'
    )
    result = parse_result(f"Running 2s test\n{line}\n")
    assert result["latency_ms"] == {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    assert result["texts_per_s"] == 0 and result["statuses"] == {}
