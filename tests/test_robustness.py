"""Hostile requests, slow clients and overload against `python -m spam_service` as a separate process: each case
asserts the status, how long the answer took, how big it was, and how much the process's peak memory grew.

The figures docs/robustness.md quotes come from these tests (`pytest tests/test_robustness.py -s` prints them)."""

import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.samples import HAM, SPAM
from tests.support.service_process import ServiceProcess, memory_kib, reset_peak_rss, start_service, stop
from tests.support.wrk import run_wrk

MAX_RSS_GROWTH_KIB = 100 * 1024
SMALL_ERROR_BYTES = 4096


@pytest.fixture(scope="module")
def service(trained_model_dir, tmp_path_factory) -> Iterator[ServiceProcess]:
    running = start_service(
        trained_model_dir,
        tmp_path_factory.mktemp("hostile"),
        HEADER_TIMEOUT_S="2",
        BODY_TIMEOUT_S="2",
        MAX_CONNECTIONS="40",
    )
    yield running
    stop(running.process)


@dataclass
class Answer:
    status: int
    seconds: float
    size: int
    rss_growth_kib: int
    body: dict


def measured(service: ServiceProcess, send) -> Answer:
    """Run `send()` (returns an httpx.Response) and measure it, peak resident memory included."""
    pid = service.process.pid
    reset_peak_rss(pid)
    before = memory_kib(pid, "VmRSS")
    started = time.perf_counter()
    response = send()
    seconds = time.perf_counter() - started
    answer = Answer(
        response.status_code, seconds, len(response.content), memory_kib(pid, "VmHWM") - before, response.json()
    )
    print(f"{answer.status} in {seconds:.2f} s, {answer.size} bytes, peak RSS +{answer.rss_growth_kib / 1024:.1f} MiB")
    assert answer.rss_growth_kib < MAX_RSS_GROWTH_KIB
    assert answer.size < SMALL_ERROR_BYTES
    return answer


JSON = {"content-type": "application/json"}


def test_a_300_mb_chunked_body_is_refused_while_read(service):
    def chunks():
        yield b'{"text": ["'
        for _ in range(300):
            yield b"x" * (1 << 20)
        yield b'"]}'

    answer = measured(service, lambda: httpx.post(f"{service.url}/predict", content=chunks(), headers=JSON, timeout=60))
    assert answer.status == 413 and "MAX_TEXTS_PER_REQUEST" in answer.body["detail"]
    assert answer.seconds < 10


def test_a_list_of_two_million_numbers_is_one_short_error(service):
    body = b'{"text": [' + b",".join([b"0"] * 1_900_000) + b"]}"  # 3.8 MB, under the byte limit
    answer = measured(service, lambda: httpx.post(f"{service.url}/predict", content=body, headers=JSON, timeout=60))
    assert answer.status == 422 and "1900000 messages; the limit is 64" in answer.body["detail"]
    assert len(answer.body["errors"]) == 1
    assert answer.seconds < 5


def test_a_quarter_million_unknown_keys_are_counted_not_listed(service):
    body = json.dumps({"text": ["hi"], **{f"k{n}": 0 for n in range(250_000)}}).encode()
    answer = measured(service, lambda: httpx.post(f"{service.url}/predict", content=body, headers=JSON, timeout=60))
    assert answer.status == 422 and answer.body["detail"].startswith("250000 unknown keys ('k0', 'k1'")
    assert len(answer.body["errors"]) == 1
    assert answer.seconds < 10


def test_deeply_nested_arrays_are_a_400(service):
    body = b'{"text": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}"
    answer = measured(service, lambda: httpx.post(f"{service.url}/predict", content=body, headers=JSON, timeout=60))
    assert answer.status == 400 and "nests" in answer.body["detail"]
    assert answer.seconds < 5


@pytest.mark.parametrize(
    ("raw_text", "words"),
    [
        (b'"\\ud800"', "text[1] is not valid Unicode"),
        (b'"ok \\udc00 then"', "text[1] is not valid Unicode"),
        (b'"a\\u0000b"', "text[1] contains a NUL character"),
    ],
    ids=["lone-high-surrogate", "lone-low-surrogate", "nul"],
)
def test_texts_json_carries_but_no_message_holds_are_422_naming_the_item(service, raw_text, words):
    body = b'{"text": ["fine", ' + raw_text + b"]}"
    answer = measured(service, lambda: httpx.post(f"{service.url}/predict", content=body, headers=JSON))
    assert answer.status == 422 and words in answer.body["detail"]


def test_a_bad_text_never_fails_the_requests_batched_with_it(service):
    good = [SPAM, HAM]
    bad = b'{"text": ["\\ud800"]}'

    def send(index: int) -> int:
        if index % 2:
            return httpx.post(f"{service.url}/predict", content=bad, headers=JSON, timeout=30).status_code
        return httpx.post(f"{service.url}/predict", json={"text": good}, timeout=30).status_code

    results: list[int] = [0] * 40
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, send(i))) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 422] * 20


def raw_exchange(service: ServiceProcess, payload: bytes) -> tuple[bytes, float]:
    """Send `payload` and nothing more; return what the server wrote before closing the connection, and when."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", service.port), timeout=20) as connection:
        connection.sendall(payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received, time.perf_counter() - started


def test_headers_that_never_end_are_cut_at_the_header_timeout(service):
    received, seconds = raw_exchange(service, b"POST /predict HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
    assert received.startswith(b"HTTP/1.1 408 ") and b"HEADER_TIMEOUT_S" in received
    assert 1.5 < seconds < 6


def test_a_body_that_stops_arriving_is_a_408_at_the_body_timeout(service):
    head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    received, seconds = raw_exchange(service, head + b'{"text": ["')
    assert received.startswith(b"HTTP/1.1 408 ") and b"BODY_TIMEOUT_S" in received
    assert 1.5 < seconds < 6


def test_headers_over_the_size_limit_are_a_431(service):
    received, seconds = raw_exchange(
        service, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n"
    )
    assert received.startswith(b"HTTP/1.1 431 ") and b"MAX_HEADER_BYTES" in received
    assert seconds < 5


def test_connections_past_the_limit_get_503_with_retry_after_and_others_are_served(service):
    idle = [socket.create_connection(("127.0.0.1", service.port)) for _ in range(45)]  # MAX_CONNECTIONS is 40
    try:
        time.sleep(0.5)
        refused = 0
        for connection in idle[-5:]:
            connection.settimeout(5)
            try:
                head = connection.recv(4096)
            except TimeoutError:
                continue
            refused += head.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1" in head.lower()
        assert refused >= 4
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.5)
    assert httpx.get(f"{service.url}/health").status_code == 200  # the idle ones gone, room again


def test_the_service_is_whole_after_the_hostile_cases(service):
    response = httpx.post(f"{service.url}/predict", json={"text": [SPAM, HAM]})
    assert response.status_code == 200
    assert [p["label"] for p in response.json()["predictions"]] == ["spam", "ham"]
    status = httpx.get(f"{service.url}/status").json()
    assert status["status"] == "ready" and all(thread["alive"] for thread in status["threads"])


# -- overload ---------------------------------------------------------------------------------------------------


def test_overload_is_shed_with_503_and_retry_after_within_the_deadline_and_health_stays_fast(
    trained_model_dir, tmp_path
):
    deadline_s = 2.0
    service = start_service(
        trained_model_dir, tmp_path, REQUEST_TIMEOUT_S=str(deadline_s), MAX_QUEUED_TEXTS="256", LOG_LEVEL="error"
    )
    body_file = tmp_path / "body.json"
    body_file.write_text(json.dumps({"text": [f"{SPAM} {n}" if n % 2 else f"{HAM} {n}" for n in range(64)]}))
    health: list[float] = []
    loading = threading.Event()

    def probe_health() -> None:  # http.client: the lightest client, on one kept-alive connection, as a probe
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
        while not loading.is_set():
            started = time.perf_counter()
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            health.append(time.perf_counter() - started)
            time.sleep(0.05)
        connection.close()

    prober = threading.Thread(target=probe_health)
    try:
        prober.start()
        result = run_wrk(f"{service.url}/predict", body_file, connections=256, seconds=20)
    finally:
        loading.set()
        prober.join()
        stop(service.process)
    statuses = result["statuses"]
    health_p99 = statistics.quantiles(health, n=100)[98]
    print(
        f"overload: {statuses}, latency p99 {result['latency_p99_s']:.2f} s max {result['latency_max_s']:.2f} s, "
        f"/health p99 {health_p99 * 1000:.1f} ms over {len(health)} probes, {result['socket_errors']}"
    )
    assert set(statuses) <= {200, 503}, result["output"]
    assert statuses.get(200, 0) > 0 and statuses.get(503, 0) > 0
    assert result["retry_after_missing"] == 0
    assert result["socket_errors"] is None, result["output"]
    # Nobody waits past the deadline (plus writing the request log line and the answer's way back).
    assert result["latency_max_s"] < deadline_s + 1.5
    assert health_p99 < 0.050
