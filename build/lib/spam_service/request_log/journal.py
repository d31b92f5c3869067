"""Durable local appends with group commit: each request waits for its line to be on disk, many lines share one fsync.

A request hands its line to `Journal.write` and awaits it; one writer thread takes everything queued, appends it
through a `LineStore` and fsyncs once, then releases all those requests. Under load a batch holds many lines, so
the cost of an fsync is shared; alone, a request waits for about one fsync.

If the disk refuses (full, read-only, permissions), the lines stay in memory, in order, and are retried with
back-off; the waiting requests are released at once (a failing log never fails or stalls a request) and the
failure shows in `status()`.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

_logger = logging.getLogger(__name__)


class LineStore(Protocol):
    def write(self, lines: Sequence[tuple[str, bytes]]) -> None:
        """Append each line to the file its key names, in order, and make them durable.

        On OSError nothing of this call may remain (the store truncates what it wrote), so a retry cannot
        duplicate lines.
        """

    def describe(self) -> str: ...


@dataclass(slots=True)
class _Entry:
    key: str
    data: bytes
    done: Future[None] | None


_STOP = object()


class Journal:
    def __init__(
        self,
        store: LineStore,
        *,
        name: str = "journal",
        max_batch: int = 1024,
        max_backoff: float = 5.0,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.max_batch = max_batch
        self.max_backoff = max_backoff
        self._on_stored = on_stored
        self._queue: queue.SimpleQueue[_Entry | object] = queue.SimpleQueue()
        self._pending: list[_Entry] = []
        self._written = 0
        self._last_error: str | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def submit(self, key: str, data: bytes) -> Future[None]:
        """Queue a line; the future completes once it is durable (or kept in memory after a disk failure)."""
        done: Future[None] = Future()
        if self._thread is None:
            done.set_exception(RuntimeError(f"{self.name} is not running"))
            return done
        self._queue.put(_Entry(key, data, done))
        return done

    async def write(self, key: str, data: bytes) -> None:
        await asyncio.wrap_future(self.submit(key, data))

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def lines_waiting(self) -> int:
        return self._queue.qsize() + len(self._pending)

    @property
    def lines_written(self) -> int:
        return self._written

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def close(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        left = self.lines_waiting
        if left:
            _logger.error(
                "%s: %d lines could not be stored in %s before shutdown", self.name, left, self.store.describe()
            )
        self._thread = None

    def _run(self) -> None:
        backoff = 0.05
        stopping = False
        while True:
            stopping = self._collect(block=not self._pending, timeout=backoff) or stopping
            if not self._pending:
                if stopping:
                    return
                continue
            if self._store_pending():
                backoff = 0.05
            elif stopping:
                return  # the disk still refuses at shutdown: `close` reports what is left
            else:
                backoff = min(backoff * 2, self.max_backoff)

    def _collect(self, *, block: bool, timeout: float) -> bool:
        """Move queued lines to `_pending`; True once told to stop. Waits for the first line when `block`."""
        try:
            item = self._queue.get() if block else self._queue.get(timeout=timeout)
        except queue.Empty:
            return False
        stopping = False
        while True:
            if item is _STOP:
                stopping = True
            else:
                assert isinstance(item, _Entry)
                self._pending.append(item)
            if len(self._pending) >= self.max_batch:
                return stopping
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return stopping

    def _store_pending(self) -> bool:
        try:
            self.store.write([(entry.key, entry.data) for entry in self._pending])
        except OSError as exc:
            message = f"cannot write to {self.store.describe()}: {exc.strerror or exc}"
            if message != self._last_error:
                _logger.error("%s: %s; %d lines kept in memory and retried", self.name, message, len(self._pending))
            self._last_error = message
            self._release(self._pending)  # the requests go on; the lines stay pending
            return False
        stored, self._pending = self._pending, []
        self._written += len(stored)
        self._release(stored)
        if self._last_error is not None:
            _logger.warning("%s: writing to %s again", self.name, self.store.describe())
            self._last_error = None
        if self._on_stored is not None:
            self._on_stored()
        return True

    @staticmethod
    def _release(entries: list[_Entry]) -> None:
        for entry in entries:
            if entry.done is not None and not entry.done.done():
                entry.done.set_result(None)
            entry.done = None
