"""Dynamic micro-batching: concurrent /predict calls share forward passes.

Requests wait in a queue. When a worker is free, one collector task takes the oldest request, then whatever else
is already queued, and, when that leaves room and every other worker is busy, waits up to `max_wait_s` for more,
until the batch holds `max_batch_texts` texts (a lone request never waits); a request is never split, so one
larger than the limit runs alone. If more workers are idle, the batch is shared out among them. Each batch runs
on a worker thread, off the event loop, and each request gets its own predictions back in its own order. While
every worker is busy the next batch queues up, so under load batches fill without waiting at all.

Model swaps: each request names the model it started with, and a batch holds requests of one model only (the
collector closes a batch when the next request's model differs), so a request never gets another model's answer.

Backpressure: `max_queued_texts` bounds the texts waiting or in a forward pass; a request that would go past it is
refused at once (`OverloadedError`, with a Retry-After estimated from the measured throughput) rather than queued
behind work it cannot outlast. A request whose deadline passes while it waits leaves the queue unclassified.

The collector task is supervised: if it ever dies of a bug, the waiting requests fail with 503 and it is restarted,
instead of every later request waiting for a task that is gone.

Why several workers with few threads each rather than one pass using every core: a small batch does not keep two
intra-op threads busy (ONNX Runtime int8, batches of 32 on 2 cores: one pass with 2 threads ~400 texts/s, two
passes with 1 thread each ~600), and the Python around each pass (tokenizing, the TF-IDF baseline) then overlaps
with the other pass.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from spam_service.errors import UnavailableError, first_line
from spam_service.model.classifier import Prediction, SpamClassifier
from spam_service.supervision import ThreadStatus

_logger = logging.getLogger(__name__)


class InferenceClosedError(UnavailableError):
    """Raised to a caller that submits after shutdown began."""


class OverloadedError(UnavailableError):
    """More texts wait for inference than `max_queued_texts` allows."""


class DeadlineExceededError(UnavailableError):
    """The request's deadline passed before its texts were classified."""


@dataclass(slots=True)
class _Pending:
    texts: Sequence[str]
    future: asyncio.Future[list[Prediction]]
    classifier: SpamClassifier  # the model the request started with (a swap may change the one serving meanwhile)


@dataclass(slots=True)
class BatchStats:
    batches: int = 0
    requests: int = 0
    texts: int = 0
    largest_batch: int = 0

    def record(self, requests: int, texts: int) -> None:
        self.batches += 1
        self.requests += requests
        self.texts += texts
        self.largest_batch = max(self.largest_batch, texts)


def split_evenly(batch: list[_Pending], parts: int) -> list[list[_Pending]]:
    """`batch` cut into `parts` runs of consecutive requests (never splitting one) with about as many texts each."""
    total = sum(len(p.texts) for p in batch)
    groups: list[list[_Pending]] = []
    current: list[_Pending] = []
    taken = 0
    for index, pending in enumerate(batch):
        current.append(pending)
        taken += len(pending.texts)
        groups_after = parts - len(groups) - 1
        requests_after = len(batch) - index - 1
        if groups_after and (taken >= total * (len(groups) + 1) / parts or requests_after == groups_after):
            groups.append(current)
            current = []
    groups.append(current)
    return groups


class MicroBatcher:
    """`classifier` serves the requests that name none (`predict(..., classifier=None)`); a swap replaces it.
    `on_batch(texts, seconds)`, when given, is called on the event loop after each batch the model answered:
    its size and how long the model took on the worker thread (the app's metrics observe it)."""

    def __init__(
        self,
        classifier: SpamClassifier,
        *,
        max_batch_texts: int,
        max_wait_s: float,
        workers: int = 1,
        max_queued_texts: int | None = None,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        self.classifier = classifier
        self.on_batch = on_batch
        self.max_batch_texts = max_batch_texts
        self.max_wait_s = max_wait_s
        self.workers = workers
        self.max_queued_texts = max_queued_texts
        self.stats = BatchStats()
        self.queued_texts = 0  # waiting or in a forward pass
        self.refused_overloaded = 0
        self.refused_deadline = 0
        self._texts_per_second = 0.0  # all workers together, smoothed over recent batches
        self._crashes = 0
        self._last_crash: str | None = None
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self._slots = asyncio.Semaphore(workers)
        self._running: set[asyncio.Task[None]] = set()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._collector: asyncio.Task[None] | None = None
        self._held: _Pending | None = None
        self._collecting: list[_Pending] = []
        self._closing = False

    def start(self) -> None:
        """Start the collector; call from the running event loop (the app's lifespan)."""
        self._collector = asyncio.get_running_loop().create_task(self._collect(), name="micro-batcher")
        self._collector.add_done_callback(self._collector_ended)

    def _collector_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._closing:
            return
        exc = task.exception()
        self._crashes += 1
        self._last_crash = f"{type(exc).__name__}: {first_line(exc)}" if exc else "ended"
        _logger.error("micro-batcher: the collector died (%s); restarting it", self._last_crash, exc_info=exc)
        # Fail whatever waits, what it held included, so that no caller waits forever.
        waiting = [*self._collecting, *([self._held] if self._held else [])]
        self._collecting, self._held = [], None
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for pending in waiting:
            self._queue.task_done()
            self.queued_texts -= len(pending.texts)
            if not pending.future.done():
                pending.future.set_exception(UnavailableError("inference failed; retry the request"))
        self._slots = asyncio.Semaphore(self.workers)  # running batches release into the old one
        self.start()

    def status(self) -> ThreadStatus:
        alive = self._collector is not None and not self._collector.done()
        return ThreadStatus("micro-batcher", alive, self._crashes, self._last_crash)

    def retry_after(self) -> int:
        """Seconds until the texts queued now are likely done (1 at least, 60 at most)."""
        if self._texts_per_second <= 0:
            return 1
        return max(1, min(60, math.ceil(self.queued_texts / self._texts_per_second)))

    def shed(self, texts: int) -> int | None:
        """Retry-After seconds when a request of `texts` texts would be refused now (counted as refused), else
        None: the check the HTTP layer makes before it reads a body."""
        if self.max_queued_texts is None or self.queued_texts + texts <= self.max_queued_texts:
            return None
        self.refused_overloaded += 1
        return self.retry_after()

    async def predict(
        self, texts: Sequence[str], *, deadline: float | None = None, classifier: SpamClassifier | None = None
    ) -> list[Prediction]:
        """Predictions of `classifier` (default: `self.classifier`) for `texts`. `deadline` (a `time.perf_counter()`
        value): past it the texts leave the queue and `DeadlineExceededError` is raised."""
        if self._closing or self._collector is None:
            raise InferenceClosedError("the service is shutting down; retry on another replica")
        if self.max_queued_texts is not None and self.queued_texts + len(texts) > self.max_queued_texts:
            self.refused_overloaded += 1
            raise OverloadedError(
                f"the service is overloaded ({self.queued_texts} texts queued, the limit is {self.max_queued_texts}); "
                "retry after the Retry-After seconds",
                retry_after=self.retry_after(),
            )
        future: asyncio.Future[list[Prediction]] = asyncio.get_running_loop().create_future()
        self.queued_texts += len(texts)
        self._queue.put_nowait(_Pending(list(texts), future, classifier or self.classifier))
        if deadline is None:
            return await future
        try:
            async with asyncio.timeout(deadline - time.perf_counter()):
                return await future
        except TimeoutError:
            # The future is cancelled with the wait: a batch that has not started skips it.
            self.refused_deadline += 1
            raise DeadlineExceededError(
                "the request was not classified within its deadline (REQUEST_TIMEOUT_S): the service is busy; retry "
                "after the Retry-After seconds",
                retry_after=self.retry_after(),
            ) from None

    async def close(self) -> None:
        """Finish what is queued, then stop. Callers arriving after this get `InferenceClosedError`."""
        self._closing = True
        if self._collector is not None:
            await self._queue.join()
            self._collector.cancel()
            await asyncio.gather(self._collector, return_exceptions=True)
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            # One batch per call: its locals (the requests, and through them their model) go when it returns, so
            # an idle collector holds no model that a swap has replaced.
            await self._collect_batch(loop)

    async def _collect_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        await self._slots.acquire()  # before collecting: while every worker is busy, the next batch fills up
        # `_held`: taken from the queue but too large for the batch it would have joined. What the collector
        # holds lives on `self`, so that a crash can fail it (`_collector_ended`).
        first = self._held or await self._queue.get()
        self._held = None
        self._collecting = batch = [first]
        size = len(first.texts)
        # Wait for company only while the other workers are busy: a lone request, or one an idle worker could take
        # next, gains nothing from waiting (an idle engine is not made faster by a fuller batch later).
        busy = bool(self._running) and self._slots.locked()
        deadline = loop.time() + (self.max_wait_s if busy else 0.0)
        while size < self.max_batch_texts:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            if size + len(item.texts) > self.max_batch_texts or item.classifier is not first.classifier:
                self._held = item
                break
            batch.append(item)
            size += len(item.texts)
        parts = 1
        while parts < len(batch) and not self._slots.locked():  # idle workers: share the batch out
            await self._slots.acquire()
            parts += 1
        for part in split_evenly(batch, parts):
            task = loop.create_task(self._run_and_release(part))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        self._collecting = []

    async def _run_and_release(self, batch: list[_Pending]) -> None:
        slots = self._slots  # a restarted collector has new ones
        try:
            await self._run(batch)
        finally:
            slots.release()
            for pending in batch:
                self._queue.task_done()
                self.queued_texts -= len(pending.texts)

    @staticmethod
    def _timed_predict(classifier: SpamClassifier, texts: list[str]) -> tuple[list[Prediction], float]:
        """On the worker thread: the time measured excludes waiting for the thread and for the event loop."""
        started = time.perf_counter()
        predictions = classifier.predict(texts)
        return predictions, time.perf_counter() - started

    async def _run(self, batch: list[_Pending]) -> None:
        live = [p for p in batch if not p.future.done()]  # a caller cancelled while queued needs no answer
        if not live:
            return
        loop = asyncio.get_running_loop()
        texts = [text for pending in live for text in pending.texts]
        try:
            predictions, seconds = await loop.run_in_executor(
                self._executor, self._timed_predict, live[0].classifier, texts
            )
        except Exception as exc:
            if len(live) == 1:
                if not live[0].future.done():
                    live[0].future.set_exception(exc)
                return
            # Keep a failure with the request that causes it: run each alone.
            _logger.warning("a batch of %d requests failed; running them one by one", len(live), exc_info=True)
            for pending in live:
                await self._run([pending])
            return
        self.stats.record(len(live), len(texts))
        if seconds > 0:
            rate = len(texts) / seconds * self.workers
            self._texts_per_second = rate if not self._texts_per_second else 0.8 * self._texts_per_second + 0.2 * rate
        if self.on_batch is not None:
            self.on_batch(len(texts), seconds)
        start = 0
        for pending in live:
            end = start + len(pending.texts)
            if not pending.future.done():
                pending.future.set_result(predictions[start:end])
            start = end
