"""RequestContextMiddleware's limits that need two requests at once: the bodies held across requests, and the
delay for a connection that ignores its Retry-After."""

import socket
import time

import httpx

from tests.support.samples import HAM

JSON = {"content-type": "application/json"}
BODY_1200_BYTES = b'{"text": ["hello"]' + b" " * 1180 + b"}"  # JSON whitespace: large, yet valid and short


def send_head(url: str, content_length: int, first_bytes: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=20)
    head = (
        f"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {content_length}"
        "\r\n\r\n"
    )
    connection.sendall(head.encode() + first_bytes)
    return connection


def test_bodies_held_across_requests_are_bounded(make_app, live_server_factory):
    app, settings = make_app(
        max_texts_per_request=2, max_text_chars=100, max_queued_texts=2, body_timeout_s=5, max_body_bytes_in_flight=4000
    )
    assert settings.max_body_bytes <= 4000
    live = live_server_factory(app)
    slow = send_head(live.url, 3400, b'{"text": ["' + b"x" * 3000)  # 3 KB held, 400 bytes to come
    try:
        time.sleep(0.3)
        refused = httpx.post(f"{live.url}/predict", content=BODY_1200_BYTES, headers=JSON)  # 3 KB + 1.2 KB > 4000
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1" and "MAX_BODY_BYTES_IN_FLIGHT" in refused.json()["detail"]
    finally:
        slow.close()
    time.sleep(0.3)
    assert httpx.post(f"{live.url}/predict", content=BODY_1200_BYTES, headers=JSON).status_code == 200  # released


def test_a_connection_back_before_its_retry_after_waits_out_the_rest(make_app, live_server_factory):
    app, _ = make_app(max_texts_per_request=1, max_queued_texts=1)
    live = live_server_factory(app)
    batcher = app.state.services.batcher
    batcher.queued_texts = 1  # the queue is full (as if a request were in inference)
    try:
        with httpx.Client(base_url=live.url) as client:  # one keep-alive connection
            started = time.perf_counter()
            first = client.post("/predict", json={"text": [HAM]})
            second = client.post("/predict", json={"text": [HAM]})
            both = time.perf_counter() - started
        with httpx.Client(base_url=live.url) as other:
            started = time.perf_counter()
            third = other.post("/predict", json={"text": [HAM]})
            alone = time.perf_counter() - started
    finally:
        batcher.queued_texts = 0
    assert [r.status_code for r in (first, second, third)] == [503, 503, 503]
    assert all(r.headers["retry-after"] == "1" for r in (first, second, third))
    assert both > 0.45  # the second waited out at least half the Retry-After (jittered)
    assert alone < 0.5  # another connection is refused at once
