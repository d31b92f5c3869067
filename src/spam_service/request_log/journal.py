"""Durable local appends with group commit: each request waits for its line to be on disk, many lines share one fsync.

A request hands its line to `Journal.write` and awaits it; one writer thread takes everything queued, appends it
through a `LineStore` and fsyncs once, then releases all those requests. Under load a batch holds many lines, so
the cost of an fsync is shared; alone, a request waits for about one fsync.

A line is durable before its request goes on, or the request gets `UnavailableError` (503 + Retry-After): the
client was not answered 200, so it still holds the line and retries it. Nothing is kept in memory for later, so
a failing disk costs no memory and a line is never written after its client was told it failed.

- If the disk refuses (full, read-only, a file size limit), the batch's requests are refused and the store is
  tried again only after a back-off (1 s doubling to `max_backoff`); requests arriving meanwhile are refused at
  once with Retry-After = the back-off left. The next write that works ends it; `ready` says which state holds.
- If the writer thread itself dies (a bug), `SupervisedThread` logs and counts it, the requests it held are
  refused, and it starts again after its own back-off.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from spam_service.errors import UnavailableError
from spam_service.outage import OutageTracker
from spam_service.supervision import SupervisedThread

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
    done: Future[None]


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
        self._batch: list[_Entry] = []  # taken from the queue, being stored
        self._written = 0
        self._outage = OutageTracker(_logger, first_delay=min(1.0, max_backoff), max_delay=max_backoff)
        self._retry_at = 0.0  # monotonic time before which the failing store is not tried again
        self._running = False  # started, not closed, and the writer loop is not down after a crash
        self._closed = False
        self._accepting = threading.Lock()  # `close` and `submit` agree on whether a line can still be taken
        self._thread = SupervisedThread(
            name, self._run, on_crash=self._crashed, first_backoff=0.5, max_backoff=max(1.0, max_backoff)
        )

    def start(self) -> None:
        self._closed = False
        self._running = True
        self._thread.start()

    def threads(self) -> list[SupervisedThread]:
        return [self._thread]

    def submit(self, key: str, data: bytes) -> Future[None]:
        """Queue a line; the future completes once it is durable, or fails with `UnavailableError`."""
        done: Future[None] = Future()
        refusal = self._refusal()
        if refusal is not None:
            done.set_exception(refusal)
            return done
        with self._accepting:
            if self._closed or not self._thread.started:
                done.set_exception(UnavailableError("the service is shutting down; retry on another instance"))
            else:
                self._queue.put(_Entry(key, data, done))
        return done

    async def write(self, key: str, data: bytes) -> None:
        await asyncio.wrap_future(self.submit(key, data))

    @property
    def ready(self) -> bool:
        """Lines can be stored: the writer runs, and its last write worked or its back-off is over. (Not "until a
        write works": out of the load balancer, no request would come to prove the disk is back.)"""
        failing = self._outage.last_error is not None and time.monotonic() < self._retry_at
        return self._running and self._thread.alive and not failing

    @property
    def lines_waiting(self) -> int:
        return self._queue.qsize() + len(self._batch)

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
        """Store what is queued (the store permitting), then stop; requests still waiting are refused."""
        if not self._thread.started:
            return
        with self._accepting:
            self._closed = True
            self._queue.put(_STOP)
        self._thread.stop()
        self._thread.join(timeout)
        if self._thread.alive:
            _logger.error("%s: still storing after %.0f s at shutdown; %s", self.name, timeout, self.store.describe())
        left = self._take_queued()
        if left:
            _logger.error("%s: %d requests were refused at shutdown (not stored)", self.name, len(left))
            self._settle(left, UnavailableError("the service is shutting down; retry on another instance"))

    # -- the writer thread -------------------------------------------------------------------------------------

    def _run(self) -> None:
        self._running = True
        while True:
            stopping = self._collect()
            if self._batch:
                self._store_batch()
            if stopping:
                self._running = False
                return

    def _collect(self) -> bool:
        """Take queued lines into `_batch` (waiting for the first one); True once told to stop."""
        item = self._queue.get()
        while True:
            if item is _STOP:
                return True
            assert isinstance(item, _Entry)
            # Once running, a future can no longer be cancelled, so settling it below cannot race a client leaving.
            if item.done.set_running_or_notify_cancel():
                self._batch.append(item)
            if len(self._batch) >= self.max_batch:
                return False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False

    def _store_batch(self) -> None:
        batch = self._batch
        refusal = self._refusal()
        if refusal is not None:  # queued before the store failed, or during its back-off
            self._settle(batch, refusal)
            return
        try:
            self.store.write([(entry.key, entry.data) for entry in batch])
        except OSError as exc:
            message = f"cannot write to {self.store.describe()}: {exc.strerror or exc}"
            self._outage.failed(
                message,
                "%s: %s; refusing requests (503) until a write works, retrying with back-off",
                self.name,
                message,
                level=logging.ERROR,
            )
            self._retry_at = time.monotonic() + self._outage.delay
            self._settle(batch, self._unavailable(self._outage.delay))
            return
        # The state first: a released request may read `status()` at once.
        self._written += len(batch)
        self._retry_at = 0.0
        self._outage.succeeded("%s: writing to %s again", self.name, self.store.describe(), level=logging.WARNING)
        self._settle(batch, None)
        if self._on_stored is not None:
            self._on_stored()

    def _settle(self, batch: list[_Entry], error: UnavailableError | None) -> None:
        """Release (or refuse) a batch's requests."""
        self._batch = []
        try:
            for entry in batch:
                if not entry.done.done():
                    if error is None:
                        entry.done.set_result(None)
                    else:
                        entry.done.set_exception(error)
        except BaseException:
            self._batch = batch  # `_crashed` refuses those not released yet
            raise

    def _crashed(self, exc: BaseException) -> None:
        """`SupervisedThread`'s `on_crash`: refuse what the dead loop held and what waits in the queue."""
        self._running = False
        restarting = UnavailableError("the request log is restarting; retry shortly")
        self._settle(self._batch + self._take_queued(), restarting)

    # -- refusing ----------------------------------------------------------------------------------------------

    def _refusal(self) -> UnavailableError | None:
        """The error for a line arriving now, if it cannot be stored now: the store is in its back-off, or the
        writer loop is down after a crash (it restarts by itself)."""
        if self._thread.started and not self._running and not self._closed and self._thread.alive:
            return UnavailableError("the request log is restarting; retry shortly")
        left = self._retry_at - time.monotonic()
        return self._unavailable(left) if left > 0 else None

    @staticmethod
    def _unavailable(backoff: float) -> UnavailableError:
        return UnavailableError(
            "the request log cannot store requests durably right now; retry later",
            retry_after=max(1, math.ceil(backoff)),
        )

    def _take_queued(self) -> list[_Entry]:
        taken = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return taken
            if isinstance(item, _Entry) and item.done.set_running_or_notify_cancel():
                taken.append(item)
