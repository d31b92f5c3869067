"""Shadow scoring: a challenger model scores a sample of live /predict traffic after the answers went out, and its
predictions are stored beside the served model's, so that /statistics compares the two on the same texts.

It must cost the served path nothing:

- `offer` (called by /predict once its answer is decided) is O(1) and never blocks: it samples the request at
  SHADOW_SAMPLE_RATE and queues a reference to its texts, or drops them (counted) when SHADOW_MAX_QUEUED_TEXTS
  would be exceeded. Under load the queue fills and shadow scoring sheds work, never the served path.
- One `SupervisedThread` scores what is queued. It lowers its own OS priority to nice 19 (Linux `setpriority` on
  a thread id is per thread), and the challenger runs ONNX Runtime with one intra-op thread, which then computes
  on the calling thread and inherits that priority: on a busy CPU the scheduler serves the served path first.
  Tokenization (`tokenizers`' `encode_batch`): with TOKENIZERS_PARALLELISM=false it runs on the calling thread (so
  at nice 19); otherwise on the library's process-wide Rust (rayon) pool, whose threads take the priority of the
  thread that first used it: the served model's warm-up at start-up, at normal priority, before this thread starts
  (checked on Linux: a pool first used by a nice-19 thread runs at 19 for everyone - so the scorer must never be
  the first). Either way it is ~0.04 ms a text, about 1% of the challenger's cost.
- A torch challenger is not lowered the same way: torch's intra-op pool is process-wide and shared with the served
  model (setting it to one thread would slow the served model too), so it is left as the served model set it.

Shutdown stops the thread after the batch it is scoring, whose rows are handed to the prediction store (which
closes after it); requests still queued are dropped and counted.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from spam_service.model.classifier import SpamClassifier
from spam_service.model.loading import load_model_at_startup
from spam_service.prediction_store import PredictionStore
from spam_service.settings import Settings
from spam_service.supervision import SupervisedThread

_logger = logging.getLogger(__name__)

SHADOW_NICENESS = 19  # the lowest priority: scored with what CPU the served path leaves
SHADOW_BATCH_TEXTS = 32  # most texts per challenger call (queued requests are scored together up to it)


class ScoredText(Protocol):
    label: str
    spam_probability: float


class ShadowClassifier(Protocol):
    """What the scorer needs of a challenger (`SpamClassifier` is one)."""

    name: str
    version: str

    def predict(self, texts: Sequence[str]) -> Sequence[ScoredText]: ...


@dataclass(frozen=True, slots=True)
class ShadowStatus:
    model_name: str
    model_version: str
    registry_version: str | None
    sample_rate: float
    max_queued_texts: int
    queued_texts: int  # waiting for or being scored by the challenger now
    niceness: int | None  # of the scoring thread; None before it ran, or where priorities cannot be set
    # Texts, since start-up: offered = every /predict text; sampled = offered and picked; of those, scored (queued
    # in the store) or dropped (the queue was full, scoring failed, shutdown came first, or the store was full).
    offered: int
    sampled: int
    scored: int
    dropped: int


def lower_thread_priority(niceness: int = SHADOW_NICENESS) -> int | None:
    """Give the calling thread (only it: Linux applies a thread id's priority to that thread) `niceness`; its
    niceness after, or None where the OS does not allow it (then it runs at the process's priority)."""
    try:
        thread_id = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread_id, niceness)
        return os.getpriority(os.PRIO_PROCESS, thread_id)
    except (AttributeError, OSError) as exc:  # not Linux, or a sandbox that forbids it
        _logger.warning("shadow scoring: cannot lower the scoring thread's priority (%s); it keeps the normal one", exc)
        return None


class ShadowScorer:
    """Scores sampled /predict requests with a challenger on a background thread and queues its rows in the store.
    The constructor does no I/O; `start` starts the thread, `stop` ends it."""

    def __init__(
        self,
        classifier: ShadowClassifier,
        store: PredictionStore,
        *,
        registry_version: str | None = None,
        sample_rate: float = 0.1,
        max_queued_texts: int = 256,
        batch_texts: int = SHADOW_BATCH_TEXTS,
        niceness: int | None = SHADOW_NICENESS,
        sample: Callable[[], float] = random.random,
    ) -> None:
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be between 0 and 1, not {sample_rate}")
        if max_queued_texts < 1 or batch_texts < 1:
            raise ValueError("max_queued_texts and batch_texts must be positive")
        self.classifier = classifier
        self.store = store
        self.registry_version = registry_version
        self.sample_rate = sample_rate
        self.max_queued_texts = max_queued_texts
        self.batch_texts = batch_texts
        self.niceness = niceness  # None: leave the thread's priority alone
        self._sample = sample
        self._cond = threading.Condition()
        self._queue: deque[tuple[str, Sequence[str]]] = deque()  # (request id, its texts), oldest first
        self._queued_texts = 0  # in the queue, plus the batch being scored
        self._stopping = False
        self._thread_niceness: int | None = None
        self._offered = self._sampled = self._scored = self._dropped = 0
        self._thread = SupervisedThread("shadow-scorer", self._run, restart=True)

    # -- the request path -----------------------------------------------------------------------------------------

    def offer(self, request_id: str, texts: Sequence[str]) -> None:
        """Maybe score `texts` (kept by reference: do not change them after) later. O(1), never blocks."""
        count = len(texts)
        picked = self._sample() < self.sample_rate  # random.random() < 1.0 always: rate 1 takes every request
        with self._cond:
            self._offered += count
            if not picked or count == 0:
                return
            self._sampled += count
            if self._stopping or self._queued_texts + count > self.max_queued_texts:
                self._dropped += count
                return
            self._queue.append((request_id, texts))
            self._queued_texts += count
            self._cond.notify()

    # -- life cycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the batch being scored (its rows go to the store); what is still queued is dropped, counted."""
        self._thread.stop()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        with self._cond:
            left = sum(len(texts) for _, texts in self._queue)
            self._queue.clear()
            self._queued_texts -= left
            self._dropped += left
        if left:
            _logger.info("shadow scoring: %d queued texts were not scored before shutdown", left)

    def threads(self) -> list[SupervisedThread]:
        return [self._thread]

    def status(self) -> ShadowStatus:
        with self._cond:
            return ShadowStatus(
                model_name=self.classifier.name,
                model_version=self.classifier.version,
                registry_version=self.registry_version,
                sample_rate=self.sample_rate,
                max_queued_texts=self.max_queued_texts,
                queued_texts=self._queued_texts,
                niceness=self._thread_niceness,
                offered=self._offered,
                sampled=self._sampled,
                scored=self._scored,
                dropped=self._dropped,
            )

    # -- the scoring thread ---------------------------------------------------------------------------------------

    def _run(self) -> None:
        if self.niceness is not None and self._thread_niceness is None:  # a restart keeps the thread's priority
            self._thread_niceness = lower_thread_priority(self.niceness)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._stopping)
                if self._stopping:
                    return
                batch = [self._queue.popleft()]
                texts = len(batch[0][1])
                while self._queue and texts + len(self._queue[0][1]) <= self.batch_texts:
                    batch.append(self._queue.popleft())
                    texts += len(batch[-1][1])
            self._score(batch, texts)

    def _score(self, batch: list[tuple[str, Sequence[str]]], texts: int) -> None:
        scored = 0  # texts whose rows the store took
        try:
            predictions = self.classifier.predict([text for _, request_texts in batch for text in request_texts])
            start = 0
            for request_id, request_texts in batch:
                end = start + len(request_texts)
                stored = self.store.add_shadow(
                    request_id,
                    model_name=self.classifier.name,
                    model_version=self.classifier.version,
                    registry_version=self.registry_version,
                    predictions=[(p.label, p.spam_probability) for p in predictions[start:end]],
                )
                if stored:
                    scored += len(request_texts)
                start = end
        finally:  # a failure is logged and counted by the supervisor, which restarts the loop
            with self._cond:
                self._queued_texts -= texts
                self._scored += scored
                self._dropped += texts - scored


def load_shadow_classifier(settings: Settings) -> SpamClassifier:
    """The challenger SHADOW_MODEL_URI names (a directory or a registry URI, loaded as the served model is), with the
    served model's engine settings but one intra-op thread, warmed up. Raises StartupError (a registry it
    cannot use, naming SHADOW_MODEL_URI) / ModelLoadError with what to fix."""
    uri = settings.shadow_model_uri
    assert uri is not None

    def threads(backend: str) -> int | None:
        if backend == "torch":  # torch's thread count is process-wide: leave it to the served model
            _logger.warning(
                "shadow scoring: the challenger %s runs on torch, whose threads the served model shares and whose "
                "priority is not lowered; export it to ONNX (INFERENCE_BACKEND=auto picks it) to keep it off the "
                "served path's CPU",
                uri,
            )
            return None
        return 1

    return load_model_at_startup("SHADOW_MODEL_URI", uri, settings, threads=threads)


def build_shadow_scorer(settings: Settings, store: PredictionStore) -> ShadowScorer | None:
    """The scorer SHADOW_MODEL_URI asks for (None when unset), its challenger loaded; no thread until `start`."""
    if not settings.shadow_model_uri:
        return None
    classifier = load_shadow_classifier(settings)
    _logger.info(
        "shadow scoring: challenger %s version %s on %s scores %.0f%% of /predict requests",
        classifier.name,
        classifier.version,
        classifier.backend,
        settings.shadow_sample_rate * 100,
    )
    return ShadowScorer(
        classifier,
        store,
        registry_version=classifier.registry_version,
        sample_rate=settings.shadow_sample_rate,
        max_queued_texts=settings.shadow_max_queued_texts,
    )
