"""Application logging: lines to stdout written by a background thread, as JSON objects (default) or text.

A slow or stalled stdout reader (a full pipe, a busy log shipper) must not block the event loop, which would stall
every request. `flush()` waits until what is queued is written; the app's shutdown calls it, because uvicorn
re-raises SIGTERM after a graceful shutdown and the process then ends without running atexit hooks.

Every line logged while a request is handled carries its id: the request middleware sets `current_request_id` for
the request's task, and formatting happens on the caller's thread, where that context is.
"""

import json
import logging
import queue
import sys
import threading
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, request_id (null outside requests),
    and exception (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`FORMAT` for people reading a terminal; `-` stands for the request id outside requests."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = current_request_id.get() or "-"
        return super().format(record)


class BackgroundStreamHandler(logging.Handler):
    """Formats on the caller's thread (records can change after emit), writes on its own."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._write_forever, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.put_nowait(self.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def _write_forever(self) -> None:
        while True:
            line = self._lines.get()
            try:
                self.stream.write(line)
                if self._lines.empty():
                    self.stream.flush()
            except Exception:  # a closed or broken stdout: nothing to report it to
                pass
            finally:
                self._lines.task_done()

    def flush(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self._lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)


def configure_logging(level: str, log_format: Literal["json", "text"] = "json") -> None:
    """Send every logger's lines (uvicorn's included: they propagate to the root) to stdout in `log_format`."""
    handler = BackgroundStreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("hdfs").setLevel(max(logging.WARNING, logging.getLogger().level))  # it logs every call at INFO


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
