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

from spam_service.outage import OutageTracker

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
        self._on_stored = on_stored
        self._queue: queue.SimpleQueue[_Entry | object] = queue.SimpleQueue()
        self._pending: list[_Entry] = []
        self._written = 0
        self._outage = OutageTracker(_logger, first_delay=0.1, max_delay=max_backoff)
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
    def errors(self) -> int:
        """Failed store attempts since start-up (each retry counts)."""
        return self._outage.errors

    @property
    def last_error(self) -> str | None:
        return self._outage.last_error

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
        stopping = False
        while True:
            # Lines are pending here only after a failed store: new lines, or the back-off passing, retry it.
            stopping = self._collect(block=not self._pending, timeout=self._outage.delay) or stopping
            if not self._pending:
                if stopping:
                    return
                continue
            if not self._store_pending() and stopping:
                return  # the disk still refuses at shutdown: `close` reports what is left

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
            self._outage.failed(
                message,
                "%s: %s; %d lines kept in memory and retried",
                self.name,
                message,
                len(self._pending),
                level=logging.ERROR,
            )
            self._release(self._pending)  # the requests go on; the lines stay pending
            return False
        stored, self._pending = self._pending, []
        self._written += len(stored)
        self._release(stored)
        self._outage.succeeded("%s: writing to %s again", self.name, self.store.describe(), level=logging.WARNING)
        if self._on_stored is not None:
            self._on_stored()
        return True

    @staticmethod
    def _release(entries: list[_Entry]) -> None:
        for entry in entries:
            if entry.done is not None and not entry.done.done():
                entry.done.set_result(None)
            entry.done = None
