"""The prediction store as the service uses it: one row per predicted text, written in batches off the request
path, and the feedback and statistics that read those rows.

`add` (called on the event loop by /predict) only appends rows to an in-memory queue. A writer thread inserts
them in batches (one executemany per batch) every `flush_interval` seconds, or sooner once `batch_rows` wait.
If the database refuses, the rows stay queued, in order, and are retried with back-off; past `max_pending` new
rows are dropped with a warning (the request log still has every prediction). `close` writes what is queued.

Feedback and statistics (their SQL is in `queries.py`) run on the caller's thread (the API hands them to a worker
thread). Feedback for a request whose rows are still queued first waits for the writer to store them, so a client
that sends feedback right after its /predict answer never gets a false 404.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from spam_service.errors import StartupError, UnavailableError
from spam_service.outage import OutageTracker
from spam_service.prediction_store import queries
from spam_service.prediction_store.database import Database, describe_error, utc_now
from spam_service.prediction_store.queries import FeedbackResult, ModelCounts
from spam_service.prediction_store.schema import predictions

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PredictionRow:
    request_id: str
    text_index: int
    label: str
    spam_probability: float
    model_name: str
    model_version: str
    predicted_at: datetime  # naive UTC
    text: str | None = None

    def values(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "text_index": self.text_index,
            "label": self.label,
            "spam_probability": self.spam_probability,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "predicted_at": self.predicted_at,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class StoreStatus:
    kind: str  # sqlite or postgresql
    target: str  # the URL, password masked
    schema_ready: bool  # migrations applied (false while the database has been unreachable since start-up)
    rows_waiting: int  # accepted, not yet written
    rows_written: int  # since start-up
    rows_dropped: int  # refused while `max_pending` rows waited
    last_error: str | None


class PredictionStore:
    """Stores predictions and feedback in SQLite or PostgreSQL. The constructor does no I/O; `start` connects.

    The writer and the reads live in one object because the reads wait on the writer's queue (feedback for rows
    not yet written, statistics after a flush); the SQL of the reads is in `queries`, the database in `database`.
    """

    def __init__(
        self,
        url: str | URL,
        *,
        store_texts: bool = False,
        flush_interval: float = 0.2,
        batch_rows: int = 1000,
        max_pending: int = 100_000,
        max_backoff: float = 30.0,
        busy_timeout: float = 5.0,
    ) -> None:
        if flush_interval <= 0 or batch_rows < 1 or max_pending < 1 or max_backoff <= 0 or busy_timeout <= 0:
            raise ValueError("flush_interval, batch_rows, max_pending, max_backoff and busy_timeout must be positive")
        self.database = Database(url, busy_timeout=busy_timeout)
        self.target = self.database.target  # the URL, password masked
        self.store_texts = store_texts
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.max_pending = max_pending
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        # Queued rows in order, each with its sequence number; rows stay here until committed.
        self._pending: deque[tuple[int, PredictionRow]] = deque()
        self._pending_requests: dict[str, int] = {}  # request_id -> sequence number of its last queued row
        self._enqueued = 0  # sequence number of the last row accepted
        self._resolved = 0  # every row up to this sequence number is written
        self._flush_requested = False
        self._stopping = False
        self._stop_deadline = 0.0
        self._written = 0
        self._dropped = 0
        self._outage = OutageTracker(_logger, first_delay=0.1, max_delay=max_backoff)
        self._last_drop_warning = 0.0

    # -- life cycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and migrate to the newest schema. An unreachable database does not stop start-up: the writer
        keeps trying (rows wait in memory meanwhile). Any other migration failure raises `StartupError`."""
        self.database.open()
        try:
            self.database.migrate()
        except (OperationalError, InterfaceError) as exc:
            message = describe_error(exc)
            self._outage.failed(
                message,
                "prediction store %s is unreachable (%s); predictions wait in memory and are retried",
                self.target,
                message,
                level=logging.WARNING,
            )
        except (SQLAlchemyError, OSError, CommandError) as exc:
            # Not a passing outage: a file that is no database, a revision this release does not know (the
            # database was migrated by a newer one), a schema changed by hand. Retrying will not help.
            message = (
                f"prediction store {self.target}: migrating the schema failed: {describe_error(exc)}; check that "
                "PREDICTION_STORE_URL names this service's database (`python -m spam_service.prediction_store "
                "current` shows its revision)"
            )
            raise StartupError(message) from exc
        self._thread = threading.Thread(target=self._run, name="prediction-store", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write every queued row (retrying within `timeout` seconds if the database refuses), then stop."""
        if self._thread is not None:
            with self._cond:
                self._stopping = True
                self._stop_deadline = time.monotonic() + timeout
                self._cond.notify_all()
            self._thread.join(timeout + 1)
            self._thread = None
        left = self.rows_waiting
        if left:
            _logger.error(
                "prediction store: %d rows could not be written to %s before shutdown (%s); the request log has them",
                left,
                self.target,
                self._outage.last_error,
            )
        self.database.dispose()

    # -- writing predictions ------------------------------------------------------------------------------------

    def add(
        self,
        request_id: str,
        *,
        model_name: str,
        model_version: str,
        predictions: Sequence[tuple[str, float]],
        texts: Sequence[str] | None = None,
    ) -> None:
        """Queue one row per (label, spam probability), in request order. Never blocks on the database."""
        now = utc_now()
        rows = [
            PredictionRow(
                request_id,
                index,
                label,
                float(probability),
                model_name,
                model_version,
                now,
                texts[index] if self.store_texts and texts is not None else None,
            )
            for index, (label, probability) in enumerate(predictions)
        ]
        with self._cond:
            if len(self._pending) + len(rows) > self.max_pending:
                self._dropped += len(rows)
                self._warn_dropped()
                return
            for row in rows:
                self._enqueued += 1
                self._pending.append((self._enqueued, row))
            if rows:
                self._pending_requests[request_id] = self._enqueued
            if len(self._pending) >= self.batch_rows:
                self._cond.notify_all()

    def _warn_dropped(self) -> None:
        now = time.monotonic()
        if now - self._last_drop_warning >= 60:
            self._last_drop_warning = now
            _logger.warning(
                "prediction store: %d rows wait for %s (%s), the limit; new predictions are NOT stored "
                "(%d dropped since start-up; the request log still has them)",
                len(self._pending),
                self.target,
                self._outage.last_error,
                self._dropped,
            )

    def flush(self, timeout: float = 10.0) -> bool:
        """Ask the writer to store everything queued now; True once it has, False if `timeout` passed first."""
        with self._cond:
            return self._wait_resolved(self._enqueued, timeout)

    def _wait_resolved(self, sequence: int, timeout: float) -> bool:
        """With the lock held: wake the writer and wait until rows up to `sequence` are written."""
        if self._resolved >= sequence:
            return True
        if self._thread is None:
            return False
        self._flush_requested = True
        self._cond.notify_all()
        return self._cond.wait_for(lambda: self._resolved >= sequence, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._outage.delay and self._pending:
                    self._cond.wait(self._outage.delay)  # the last write failed; stop and flush requests cut it short
                elif not self._stopping and not self._flush_requested and len(self._pending) < self.batch_rows:
                    self._cond.wait(self.flush_interval)
                self._flush_requested = False
                stopping = self._stopping
                batch = list(islice(self._pending, self.batch_rows))
            if not batch:
                if stopping:
                    return
                continue
            if not self._write(batch) and stopping and time.monotonic() + self._outage.delay >= self._stop_deadline:
                return  # the database still refuses at shutdown: `close` reports what is left

    def _write(self, batch: list[tuple[int, PredictionRow]]) -> bool:
        engine = self.database.engine
        assert engine is not None
        try:
            self.database.migrate()
            with engine.begin() as connection:
                # A retry after a commit whose acknowledgement was lost must not fail on (or duplicate) its rows.
                statement = self.database.insert(predictions).on_conflict_do_nothing(
                    index_elements=["request_id", "text_index"]
                )
                connection.execute(statement, [row.values() for _, row in batch])
        except (SQLAlchemyError, OSError) as exc:
            message = describe_error(exc)
            self._outage.failed(
                message,
                "prediction store: cannot write to %s (%s); %d rows wait in memory and are retried",
                self.target,
                message,
                self.rows_waiting,
                level=logging.ERROR,
            )
            return False
        last = batch[-1][0]
        with self._cond:
            while self._pending and self._pending[0][0] <= last:
                _, row = self._pending.popleft()
                if self._pending_requests.get(row.request_id, last + 1) <= last:
                    del self._pending_requests[row.request_id]
            self._resolved = last
            self._written += len(batch)
            self._cond.notify_all()
        self._outage.succeeded("prediction store: writing to %s again", self.target, level=logging.WARNING)
        return True

    # -- status -------------------------------------------------------------------------------------------------

    @property
    def rows_waiting(self) -> int:
        return len(self._pending)

    def status(self) -> StoreStatus:
        return StoreStatus(
            kind=self.database.kind,
            target=self.target,
            schema_ready=self.database.schema_ready,
            rows_waiting=len(self._pending),
            rows_written=self._written,
            rows_dropped=self._dropped,
            last_error=self._outage.last_error,
        )

    # -- feedback and statistics (blocking: call them from a worker thread) ------------------------------------

    def record_feedback(self, request_id: str, index: int, label: str, *, timeout: float = 3.0) -> FeedbackResult:
        """Store the true label of prediction `index` of `request_id`; the latest label wins.

        Raises NotFoundError (unknown request), InvalidInputError (index out of range), UnavailableError.
        """
        with self._cond:
            queued = self._pending_requests.get(request_id)
            if queued is not None and not self._wait_resolved(queued, timeout):
                raise UnavailableError(
                    f"the predictions of request {request_id} are not stored yet (the database is unreachable); "
                    "retry later"
                )
        return queries.record_feedback(self.database, request_id, index, label)

    def statistics(self, since: datetime | None = None, until: datetime | None = None) -> list[ModelCounts]:
        """Aggregates per model version of the predictions made in [since, until) (naive UTC), in SQL.

        Rows still queued are written first, so the figures include every prediction answered so far."""
        self.flush(timeout=3.0)
        return queries.counts_by_model(self.database, since, until)
