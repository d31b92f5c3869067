"""Application logging never blocks the caller on a stalled stdout, flush() writes everything queued, and lines
are JSON objects that name the request they were logged in."""

import asyncio
import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from spam_service.api.error_handlers import install_error_handlers
from spam_service.api.middleware import BodyLimits, RequestContextMiddleware
from spam_service.observability.logging import BackgroundStreamHandler, JsonFormatter, TextFormatter, current_request_id


class StalledStream(io.StringIO):
    """A stdout whose reader has stopped reading: writes block until `resume` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.resume = threading.Event()

    def write(self, text: str) -> int:
        self.resume.wait(timeout=30)
        return super().write(text)


def test_logging_returns_while_stdout_is_stalled_and_flush_writes_everything_in_order():
    stream = StalledStream()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.app_logging")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        finished = threading.Event()

        def log_many() -> None:
            for i in range(500):
                logger.warning("line %d", i)
            finished.set()

        threading.Thread(target=log_many).start()
        assert finished.wait(timeout=10), "logging blocked on a stalled stdout"
        assert stream.getvalue() == ""
        stream.resume.set()
        handler.flush()
        assert stream.getvalue().splitlines() == [f"line {i}" for i in range(500)]
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the root logger writes through a BackgroundStreamHandler, as `configure_logging` sets it up."""
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        handler.flush()
        root.removeHandler(handler)
        root.setLevel(previous_level)


def logged(stream: io.StringIO) -> list[dict]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def app_that_logs() -> FastAPI:
    app = FastAPI()
    work_log = logging.getLogger("test.work")

    @app.get("/work")
    async def work() -> dict:
        work_log.info("working on %s", "it")
        await asyncio.sleep(0)  # the request id survives awaits
        work_log.warning("done")
        return {}

    @app.get("/fail")
    async def fail() -> dict:
        raise RuntimeError("kaput")

    install_error_handlers(app)
    app.add_middleware(
        RequestContextMiddleware, limits=BodyLimits(max_bytes=1000, timeout_s=5, max_bytes_in_flight=10_000)
    )
    return app


def test_json_lines_carry_the_request_id_of_the_request_that_logged_them(captured):
    logging.getLogger("test.outside").info("before any request")
    with TestClient(app_that_logs()) as client:
        first, second = client.get("/work"), client.get("/work")
    lines = [line for line in logged(captured) if line["logger"].startswith("test.")]

    assert [(line["logger"], line["message"], line["level"]) for line in lines] == [
        ("test.outside", "before any request", "INFO"),
        ("test.work", "working on it", "INFO"),
        ("test.work", "done", "WARNING"),
        ("test.work", "working on it", "INFO"),
        ("test.work", "done", "WARNING"),
    ]
    ids = [first.headers["x-request-id"]] * 2 + [second.headers["x-request-id"]] * 2
    assert [line["request_id"] for line in lines] == [None, *ids]
    assert all("exception" not in line for line in lines)
    moment = datetime.fromisoformat(lines[0]["time"])
    assert lines[0]["time"].endswith("Z") and abs(moment - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_unexpected_error_is_logged_as_json_with_its_traceback_and_request_id(captured):
    with TestClient(app_that_logs(), raise_server_exceptions=False) as client:
        response = client.get("/fail")
    assert response.status_code == 500 and "kaput" not in response.text  # the client learns nothing internal
    assert response.headers["x-request-id"] == response.json()["request_id"]
    [line] = [line for line in logged(captured) if line.get("exception")]
    assert line["level"] == "ERROR" and line["request_id"] == response.json()["request_id"]
    assert "Traceback" in line["exception"] and "RuntimeError: kaput" in line["exception"]
    assert "\n" not in json.dumps(line)  # one line however long the traceback


def test_text_format_names_the_request_or_a_dash():
    stream = io.StringIO()
    handler = BackgroundStreamHandler(stream)
    handler.setFormatter(TextFormatter())
    logger = logging.getLogger("test.text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("outside")
        token = current_request_id.set("abc123")
        try:
            logger.warning("inside %d", 1)
        finally:
            current_request_id.reset(token)
        handler.flush()
    finally:
        logger.removeHandler(handler)
    outside, inside = stream.getvalue().splitlines()
    assert outside.endswith(" WARNING test.text [-]: outside")
    assert inside.endswith(" WARNING test.text [abc123]: inside 1")
