"""Zero-downtime model swaps: load a candidate beside the model serving, warm it, check it on the canary texts,
then switch one reference.

A swap runs on a thread of its own (`POST /admin/model` hands it to one; the alias watcher is one), never on the
event loop, so the old model serves meanwhile. One swap at a time: a second gets `SwapInProgressError` (409). A
request picks the model once, when it starts, and keeps it for its inference, answer, log line, stored rows and
metrics; the micro-batcher never mixes two models in one batch. After the switch nothing here holds the old model:
it is freed when its last request finishes. A candidate that fails to load or mislabels a canary is dropped and
the old model keeps serving; the reason goes to the caller, the log and `/status`.

`AliasWatcher` polls the registry alias MODEL_URI names (MODEL_WATCH_INTERVAL_S) and swaps when it moves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from spam_service.errors import (
    ConflictError,
    ModelLoadError,
    NotFoundError,
    SpamServiceError,
    UnavailableError,
    first_line,
)
from spam_service.model.canary import check_canaries
from spam_service.model.classifier import SpamClassifier
from spam_service.model.loading import ModelNotFoundError
from spam_service.models.registry import RegistryError, UnknownModelVersionError
from spam_service.outage import OutageTracker
from spam_service.supervision import SupervisedThread, ThreadStatus

_logger = logging.getLogger(__name__)

REGISTRY_RETRY_AFTER_S = 30  # Retry-After of a swap refused because the registry is unreachable


class SwapInProgressError(ConflictError):
    """Another model swap is loading its candidate."""


class ModelRefusedError(SpamServiceError):
    """The candidate failed to load, or failed the canary check: the old model keeps serving."""

    status_code = 422


class RegistryUnavailableError(UnavailableError):
    """The registry could not be asked for the candidate: retry later."""


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """What identifies a served model, without holding it (a summary must not keep an old model alive)."""

    name: str
    version: str
    registry_version: str | None
    uri: str | None
    backend: str

    @classmethod
    def of(cls, classifier: SpamClassifier) -> ModelSummary:
        return cls(classifier.name, classifier.version, classifier.registry_version, classifier.uri, classifier.backend)

    def describe(self) -> str:
        registry = f" (registry version {self.registry_version})" if self.registry_version else ""
        return f"{self.name} {self.version}{registry}"


@dataclass(frozen=True, slots=True)
class SwapResult:
    previous: ModelSummary
    current: ModelSummary
    load_s: float  # fetch, load, warm-up and canary check


@dataclass(frozen=True, slots=True)
class SwapState:
    state: Literal["idle", "swapping"]
    swapping_to: str | None  # the URI being loaded now
    last_attempt_at: float | None  # epoch seconds
    last_uri: str | None
    last_result: Literal["swapped", "refused"] | None
    last_error: str | None  # why the latest attempt was refused; None after a success
    swaps: int
    refusals: int


class ModelSwapper:
    """`load(uri)` builds a warmed-up candidate (blocking); `current()` is the model serving; `switch(candidate)`
    makes it the one serving (one reference assignment, plus what reports the model: metrics)."""

    def __init__(
        self,
        load: Callable[[str], SpamClassifier],
        current: Callable[[], SpamClassifier],
        switch: Callable[[SpamClassifier], None],
    ) -> None:
        self._load = load
        self._current = current
        self._switch = switch
        self._lock = threading.Lock()
        self._swapping_to: str | None = None
        self._last_attempt_at: float | None = None
        self._last_uri: str | None = None
        self._last_result: Literal["swapped", "refused"] | None = None
        self._last_error: str | None = None
        self._swaps = 0
        self._refusals = 0

    def status(self) -> SwapState:
        return SwapState(
            state="swapping" if self._swapping_to is not None else "idle",
            swapping_to=self._swapping_to,
            last_attempt_at=self._last_attempt_at,
            last_uri=self._last_uri,
            last_result=self._last_result,
            last_error=self._last_error,
            swaps=self._swaps,
            refusals=self._refusals,
        )

    def swap(self, uri: str, *, requested_by: str) -> SwapResult:
        """Load, warm and check the model `uri` names, then serve it. Blocking: call it off the event loop.

        Raises `SwapInProgressError` (409), `ModelRefusedError` (422), `NotFoundError` / `UnknownModelVersionError`
        (404), `RegistryUnavailableError` (503); the old model keeps serving in every case."""
        if not self._lock.acquire(blocking=False):
            raise SwapInProgressError(
                f"a model swap to {self._swapping_to or 'another model'} is in progress; wait for it to finish "
                "(GET /status shows model_swap), then retry"
            )
        try:
            self._swapping_to = uri
            self._last_attempt_at = time.time()
            self._last_uri = uri
            previous = ModelSummary.of(self._current())
            started = time.perf_counter()
            try:
                candidate = self._load(uri)
                check_canaries(candidate, uri)
            except Exception as exc:
                self._refused(uri, previous, exc, requested_by)
                raise refusal_for(exc, previous) from exc
            load_s = time.perf_counter() - started
            self._switch(candidate)
            current = ModelSummary.of(candidate)
            del candidate  # the caller's result holds summaries only
            self._swaps += 1
            self._last_result, self._last_error = "swapped", None
            _logger.info(
                "model swap: %s -> %s from %s in %.1f s (requested by %s)",
                previous.describe(),
                current.describe(),
                uri,
                load_s,
                requested_by,
            )
            return SwapResult(previous, current, round(load_s, 3))
        finally:
            self._swapping_to = None
            self._lock.release()

    def _refused(self, uri: str, previous: ModelSummary, exc: Exception, requested_by: str) -> None:
        self._refusals += 1
        self._last_result, self._last_error = "refused", first_line(exc)
        expected = isinstance(exc, SpamServiceError)  # a bug gets its traceback
        _logger.warning(
            "model swap to %s refused (requested by %s): %s; %s keeps serving",
            uri,
            requested_by,
            self._last_error,
            previous.describe(),
            exc_info=None if expected else exc,
        )


def refusal_for(exc: Exception, serving: ModelSummary) -> Exception:
    """The error a refused swap answers with: its status says why, its message what keeps serving."""
    keeps = f"; {serving.describe()} keeps serving"
    if isinstance(exc, UnknownModelVersionError):
        return UnknownModelVersionError(f"{exc}{keeps}")
    if isinstance(exc, RegistryError):
        return RegistryUnavailableError(f"{exc}{keeps}", retry_after=REGISTRY_RETRY_AFTER_S)
    if isinstance(exc, ModelNotFoundError):
        return NotFoundError(f"{exc}{keeps}")
    if isinstance(exc, ModelLoadError):
        return ModelRefusedError(f"{exc}{keeps}")
    return exc  # unexpected: a 500, its traceback in the log


class AliasWatcher:
    """Every `interval_s`, asks the registry which version `uri` (models:/NAME@ALIAS) names; when the alias has moved
    to a version that is not serving, swaps to it. It follows the alias's moves, not the served model: an operator's
    `POST /admin/model` stays until the alias moves again, and a version refused once (canary, broken) is not tried
    again until then. Registry outages are logged once each and retried with a back-off."""

    def __init__(
        self,
        swapper: ModelSwapper,
        resolve: Callable[[str], str],
        current: Callable[[], SpamClassifier],
        *,
        uri: str,
        interval_s: float,
    ) -> None:
        self.uri = uri
        self.interval_s = interval_s
        self._swapper = swapper
        self._resolve = resolve
        self._current = current
        self._seen: str | None = current().registry_version  # the alias's version at the last poll that acted
        self._outage = OutageTracker(_logger, first_delay=interval_s, max_delay=max(interval_s, 300.0))
        self._stopping = threading.Event()
        self._thread = SupervisedThread("model-watcher", self._run)

    @property
    def started(self) -> bool:
        return self._thread.started

    def status(self) -> ThreadStatus:
        return self._thread.status()

    def start(self) -> None:
        self._stopping.clear()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; a swap in progress finishes first (at most `timeout` seconds are waited for)."""
        self._stopping.set()
        self._thread.stop()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.wait(max(self.interval_s, self._outage.delay)):
            self.check()

    def check(self) -> None:
        """One poll: resolve the alias, swap when it moved."""
        try:
            version = self._resolve(self.uri)
        except RegistryError as exc:
            self._outage.failed(
                first_line(exc),
                "model watcher: cannot resolve %s (%s); retrying, the served model is unchanged",
                self.uri,
                first_line(exc),
                level=logging.WARNING,
            )
            return
        self._outage.succeeded("model watcher: the registry answers again (%s)", self.uri, level=logging.INFO)
        serving = self._current().registry_version
        if version == self._seen:
            return
        if version == serving:
            self._seen = version
            return
        _logger.info("model watcher: %s now names version %s (serving %s); swapping", self.uri, version, serving)
        try:
            self._swapper.swap(self.uri, requested_by="model-watcher")
        except SwapInProgressError:
            return  # an operator's swap: look again at the next poll
        except UnavailableError:
            return  # the registry went away meanwhile (logged by the swap): try again next time
        except Exception:
            pass  # refused, and logged by the swap: not retried until the alias moves
        self._seen = version
