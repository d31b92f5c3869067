"""Request-log sinks: where every /predict request and its predictions go, one JSON line each.

The API talks to the `RequestLogSink` protocol only. `append` never blocks and never raises: records go to a
queue that a background thread drains in batches, so a slow or failing sink cannot fail or slow a request.
The embedded default, `FileRequestLogSink`, appends to a local file per day.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SinkStatus:
    kind: str
    ready: bool
    lines_waiting: int
    lines_written: int
    last_error: str | None
    target: str


class RequestLogSink(Protocol):
    def start(self) -> None:
        """Start background work; may check the target is writable."""

    def append(self, record: Mapping[str, Any]) -> None:
        """Queue one record. Never blocks, never raises."""

    def status(self) -> SinkStatus: ...

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (up to `timeout` seconds) and stop."""


class FileRequestLogSink:
    """Appends JSON lines to `<directory>/requests-YYYY-MM-DD.jsonl` (UTC date) from a writer thread.

    Lines that fail to write (disk full, permissions) stay queued in order and are retried with back-off;
    the failure shows in `status()` and in the application log, never in a response.
    """

    kind = "file"

    def __init__(self, directory: Path, *, flush_interval: float = 0.2, max_batch: int = 1000) -> None:
        self.directory = Path(directory)
        self.flush_interval = flush_interval
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Mapping[str, Any] | None] = queue.SimpleQueue()
        self._pending: deque[tuple[str, str]] = deque()  # (file name, line) not yet written
        self._written = 0
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            # Serve anyway: /ready reports it, lines wait in memory and the writer keeps retrying.
            self._last_error = f"cannot create {self.directory}: {exc.strerror or exc}"
            _logger.error("request log: %s", self._last_error)
        self._thread = threading.Thread(target=self._run, name="request-log-file", daemon=True)
        self._thread.start()

    def append(self, record: Mapping[str, Any]) -> None:
        self._queue.put(record)

    def status(self) -> SinkStatus:
        waiting = self._queue.qsize() + len(self._pending)
        alive = self._thread is not None and self._thread.is_alive()
        return SinkStatus(
            kind=self.kind,
            ready=alive and self._last_error is None,
            lines_waiting=waiting,
            lines_written=self._written,
            last_error=self._last_error,
            target=str(self.directory),
        )

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive() or self._pending:
            _logger.error(
                "request log: %d lines could not be written to %s before shutdown",
                len(self._pending) + self._queue.qsize(),
                self.directory,
            )
        self._thread = None

    def _run(self) -> None:
        backoff = self.flush_interval
        stop = False
        while True:
            stop = self._collect(timeout=None if not self._pending else backoff) or stop
            if self._pending:
                if self._write_pending():
                    backoff = self.flush_interval
                elif stop:
                    return  # shutting down and the disk still refuses: `close` reports what is left
                else:
                    backoff = min(backoff * 2, 5.0)
            if stop and not self._pending:
                return

    def _collect(self, timeout: float | None) -> bool:
        """Move queued records to `_pending` (blocking up to `timeout` for the first); True if told to stop."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        stop = False
        while True:
            if item is None:
                stop = True
            else:
                self._pending.append(self._encode(item))
            if len(self._pending) >= self.max_batch:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        return stop

    @staticmethod
    def _encode(record: Mapping[str, Any]) -> tuple[str, str]:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        return f"requests-{day}.jsonl", line + "\n"

    def _write_pending(self) -> bool:
        try:
            while self._pending:
                name = self._pending[0][0]
                lines = []
                while self._pending and self._pending[0][0] == name:
                    lines.append(self._pending.popleft()[1])
                try:
                    self.directory.mkdir(parents=True, exist_ok=True)
                    with (self.directory / name).open("a", encoding="utf-8") as handle:
                        handle.write("".join(lines))
                        handle.flush()
                        os.fsync(handle.fileno())
                except BaseException:
                    self._pending.extendleft(reversed([(name, line) for line in lines]))
                    raise
                self._written += len(lines)
        except OSError as exc:
            message = f"cannot append to {self.directory}: {exc.strerror or exc}"
            if message != self._last_error:
                _logger.error("request log: %s; %d lines kept in memory and retried", message, len(self._pending))
            self._last_error = message
            return False
        if self._last_error is not None:
            _logger.info("request log: writing to %s again", self.directory)
        self._last_error = None
        return True


def utc_timestamp(epoch_seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(epoch_seconds if epoch_seconds is not None else time.time(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
