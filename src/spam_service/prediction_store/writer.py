"""The prediction store as the service uses it: one row per predicted text, written in batches off the request
path, and the feedback and statistics that read those rows. A challenger's shadow predictions (`add_shadow`) take
the same way to their own table (within half of `max_pending`); `rows_waiting`, `rows_written` and `rows_rejected`
include them.

`add` (called on the event loop by /predict) only appends rows to an in-memory queue. A writer thread inserts
them in batches (one executemany per batch) every `flush_interval` seconds, or sooner once `batch_rows` wait.
If the database cannot be written (unreachable, locked, its schema missing), the rows stay queued, in order, and
are retried with back-off; past `max_pending` new rows are dropped with a warning (the request log still has every
prediction). A row the database refuses for its values (a NUL or a lone surrogate in a text, a value out of range)
would fail every retry and block every later row: the batch is bisected, such rows are rejected (counted, logged
once per cause without their text) and the others written. `close` writes what is queued.

The writer runs in a `SupervisedThread`: an unexpected exception is logged and counted, and the loop restarts
after a back-off (the rows it was writing are still queued). While it is down, nothing waits for it.

Feedback and statistics (their SQL is in `queries.py`) run on the caller's thread (the API hands them to a worker
thread). Feedback for a request whose rows are still queued first waits for the writer to store them, so a client
that sends feedback right after its /predict answer never gets a false 404.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from itertools import islice
from typing import Any, ClassVar

from alembic.util.exc import CommandError
from sqlalchemy import Table
from sqlalchemy.engine import URL
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)

from spam_service.errors import StartupError, UnavailableError
from spam_service.outage import OutageTracker
from spam_service.prediction_store import queries
from spam_service.prediction_store.database import Database, describe_error, utc_now
from spam_service.prediction_store.queries import FeedbackResult, ModelCounts, ShadowComparison
from spam_service.prediction_store.schema import predictions, shadow_predictions
from spam_service.supervision import SupervisedThread

_logger = logging.getLogger(__name__)

_LOGGED_CAUSES_LIMIT = 1000  # rejection causes remembered to log each once; forgotten (and logged again) past it


def blames_a_row(exc: BaseException) -> bool:
    """Whether an insert failed because of the values of its rows, so that writing them again would fail again.

    Yes: SQL data exceptions (NUL in text, out of range, too long) and constraint violations (IntegrityError: the
    only conflict the insert expects is skipped by ON CONFLICT), a value SQLAlchemy's types cannot bind
    (StatementError that is not the driver's), and the driver's ValueError/OverflowError (a lone surrogate cannot
    be encoded; an integer beyond 64 bits). No: outages (OperationalError, InterfaceError, OSError) and errors that
    no row causes (ProgrammingError, InternalError: a table dropped or privileges revoked by hand) - rejecting
    rows for those would drop every row, so they are retried like an outage and shown in `last_error`.
    """
    if isinstance(exc, DBAPIError):
        return isinstance(exc, DataError | IntegrityError)
    return isinstance(exc, StatementError | ValueError | OverflowError)


def describe_rejection(exc: BaseException) -> str:
    """The cause of a rejected row, for one log line; never a value of the row."""
    if isinstance(exc, UnicodeError):  # its message quotes the text's characters
        return f"{type(exc).__name__}: {getattr(exc, 'reason', 'invalid text')}"
    return describe_error(exc)


@dataclass(frozen=True, slots=True)
class PredictionRow:
    """A row of `predictions`: what the served model answered for one text."""

    table: ClassVar[Table] = predictions
    request_id: str
    text_index: int
    label: str
    spam_probability: float
    model_name: str
    model_version: str
    predicted_at: datetime  # naive UTC
    text: str | None = None
    requested_by: str | None = None  # API key name; None with authentication off
    registry_version: str | None = None  # None: served from a directory


@dataclass(frozen=True, slots=True)
class ShadowRow:
    """A row of `shadow_predictions`: what a challenger predicted for a text the served model answered."""

    table: ClassVar[Table] = shadow_predictions
    request_id: str
    text_index: int
    label: str
    spam_probability: float
    model_name: str
    model_version: str
    registry_version: str | None
    predicted_at: datetime  # naive UTC


def row_values(row: PredictionRow | ShadowRow) -> dict[str, Any]:
    """The row as insert values: its fields are named after its table's columns."""
    return {field.name: getattr(row, field.name) for field in fields(row)}


# What the writer queues; `table` says where each kind goes. In a transaction, predictions are inserted before
# shadow rows, whose foreign key needs them (a request's shadow rows are always queued after its predictions).
Row = PredictionRow | ShadowRow
INSERT_ORDER: tuple[Table, ...] = (predictions, shadow_predictions)
# The unique key of each table: a retry after a commit whose acknowledgement was lost skips rows already stored.
CONFLICT_KEYS: dict[str, list[str]] = {
    predictions.name: ["request_id", "text_index"],
    shadow_predictions.name: ["request_id", "text_index", "model_version"],
}


@dataclass(frozen=True, slots=True)
class StoreStatus:
    kind: str  # sqlite or postgresql
    target: str  # the URL, password masked
    schema_ready: bool  # migrations applied (false while the database has been unreachable since start-up)
    rows_waiting: int  # accepted, not yet written
    rows_written: int  # since start-up
    rows_dropped: int  # refused while `max_pending` rows waited
    rows_rejected: int  # refused by the database for their values (see `blames_a_row`)
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
        self._cond = threading.Condition()
        # Rows stay queued through a crash of the writer loop, so restarting it is safe.
        self._writer = SupervisedThread(
            "prediction-store", self._run, on_crash=self._writer_stopped, restart=True, max_backoff=max_backoff
        )
        self._writer_running = False  # the loop runs; false before start, after close, and while a crash restarts it
        # Queued rows in order, each with its sequence number; rows stay here until committed.
        self._pending: deque[tuple[int, Row]] = deque()
        # request_id -> (sequence number of its last queued row, the API key that asked for it)
        self._pending_requests: dict[str, tuple[int, str | None]] = {}
        self._enqueued = 0  # sequence number of the last row accepted
        self._resolved = 0  # every row up to this sequence number is written
        self._flush_requested = False
        self._stopping = False
        self._stop_deadline = 0.0
        self._written = 0
        self._dropped = 0
        self._rejected = 0
        self._logged_rejections: set[str] = set()
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
        self._writer.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write every queued row (retrying within `timeout` seconds if the database refuses), then stop."""
        if self._writer.started:
            self._writer.stop()  # a writer waiting to restart after a crash stays down
            with self._cond:
                self._stopping = True
                self._stop_deadline = time.monotonic() + timeout
                self._cond.notify_all()
            self._writer.join(timeout + 1)
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
        requested_by: str | None = None,
        registry_version: str | None = None,
    ) -> None:
        """Queue one row per (label, spam probability), in request order. Never blocks on the database.

        `requested_by` is the name of the API key that asked (None with authentication off), `registry_version` the
        served model's version in the registry (None when served from a directory); both are stored on every row."""
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
                requested_by,
                registry_version,
            )
            for index, (label, probability) in enumerate(predictions)
        ]
        self._enqueue(rows, feedback_owner=(request_id, requested_by))

    def add_shadow(
        self,
        request_id: str,
        *,
        model_name: str,
        model_version: str,
        registry_version: str | None,
        predictions: Sequence[tuple[str, float]],
    ) -> bool:
        """Queue a challenger's (label, spam probability) per text of `request_id`, in request order, beside the
        served model's rows (queued earlier by `add`). Never blocks.

        Shadow rows may fill only half of `max_pending`, so that while the database is down they never take the
        room of the served model's rows: past it they are not queued and False comes back (the caller counts them;
        they are not in `rows_dropped`, which counts predictions lost)."""
        now = utc_now()
        rows = [
            ShadowRow(request_id, index, label, float(probability), model_name, model_version, registry_version, now)
            for index, (label, probability) in enumerate(predictions)
        ]
        return self._enqueue(rows, limit=self.max_pending // 2)

    def _enqueue(
        self, rows: list[Row], *, feedback_owner: tuple[str, str | None] | None = None, limit: int | None = None
    ) -> bool:
        """Queue `rows` (all or none) unless the queue would then hold more than `limit` rows (default
        `max_pending`, past which dropped predictions are counted and warned about); False when not queued. With
        `feedback_owner` (request id, requesting key), feedback on that request waits for these rows."""
        with self._cond:
            if len(self._pending) + len(rows) > (limit if limit is not None else self.max_pending):
                if limit is None:
                    self._dropped += len(rows)
                    self._warn_dropped()
                return False
            for row in rows:
                self._enqueued += 1
                self._pending.append((self._enqueued, row))
            if rows and feedback_owner is not None:
                request_id, requested_by = feedback_owner
                self._pending_requests[request_id] = (self._enqueued, requested_by)
            if len(self._pending) >= self.batch_rows:
                self._cond.notify_all()
        return True

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
        """With the lock held: wake the writer and wait until rows up to `sequence` are written (or rejected);
        False at once when the writer is not running, or when it stops meanwhile."""
        if self._resolved >= sequence:
            return True
        if not self._writer_running:
            return False
        self._flush_requested = True
        self._cond.notify_all()
        self._cond.wait_for(lambda: self._resolved >= sequence or not self._writer_running, timeout)
        return self._resolved >= sequence

    def _writer_stopped(self, _crash: BaseException | None = None) -> None:
        """The writer loop ended (shutdown) or crashed: wake whoever waits for it, so that they fail fast."""
        with self._cond:
            self._writer_running = False
            self._cond.notify_all()

    def _run(self) -> None:
        with self._cond:
            self._writer_running = True
        self._write_until_stopped()
        self._writer_stopped()

    def _write_until_stopped(self) -> None:
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

    def _write(self, batch: list[tuple[int, Row]]) -> bool:
        """Store `batch`; True once every row of it is written or rejected, False if the database cannot be
        written now (the rows not stored yet stay queued, for a retry after the back-off)."""
        try:
            self.database.migrate()
            self._store(batch)
        except (SQLAlchemyError, OSError, CommandError) as exc:  # what `_store` does not blame on a row
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
        self._outage.succeeded("prediction store: writing to %s again", self.target, level=logging.WARNING)
        return True

    def _store(self, rows: list[tuple[int, Row]]) -> None:
        """Insert `rows` in one transaction; if their values are refused, bisect them to store every other row and
        reject the refused ones. Rows are resolved in queue order, each part as soon as it is committed."""
        engine = self.database.engine
        assert engine is not None
        try:
            with engine.begin() as connection:
                for table in INSERT_ORDER:
                    values = [row_values(row) for _, row in rows if row.table is table]
                    if values:
                        # A retry after a commit whose acknowledgement was lost must not fail on (or duplicate) rows.
                        statement = self.database.insert(table).on_conflict_do_nothing(
                            index_elements=CONFLICT_KEYS[table.name]
                        )
                        connection.execute(statement, values)
        except Exception as exc:
            if not blames_a_row(exc):
                raise
            if len(rows) == 1:
                self._reject(rows[0], exc)
                return
            middle = len(rows) // 2
            self._store(rows[:middle])
            self._store(rows[middle:])
            return
        self._resolve(rows, rejected=False)

    def _reject(self, item: tuple[int, Row], exc: BaseException) -> None:
        _, row = item
        self._resolve([item], rejected=True)
        cause = describe_rejection(exc)
        if cause in self._logged_rejections:
            return
        if len(self._logged_rejections) >= _LOGGED_CAUSES_LIMIT:
            self._logged_rejections.clear()
        self._logged_rejections.add(cause)
        _logger.error(
            "prediction store: row %d of request %s cannot be stored in %s (%s); it is dropped, as are later rows "
            "refused for the same cause (%d rows rejected since start-up)",
            row.text_index,
            row.request_id,
            self.target,
            cause,
            self._rejected,
        )

    def _resolve(self, rows: list[tuple[int, Row]], *, rejected: bool) -> None:
        """Remove `rows` (the head of the queue) from the queue: written, or rejected."""
        last = rows[-1][0]
        with self._cond:
            while self._pending and self._pending[0][0] <= last:
                _, row = self._pending.popleft()
                if self._pending_requests.get(row.request_id, (last + 1, None))[0] <= last:
                    del self._pending_requests[row.request_id]
            self._resolved = last
            if rejected:
                self._rejected += len(rows)
            else:
                self._written += len(rows)
            self._cond.notify_all()

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
            rows_rejected=self._rejected,
            last_error=self._outage.last_error,
        )

    def threads(self) -> list[SupervisedThread]:
        return [self._writer]

    # -- feedback and statistics (blocking: call them from a worker thread) ------------------------------------

    def record_feedback(
        self,
        request_id: str,
        index: int,
        label: str,
        *,
        reporter: str | None = None,
        any_prediction: bool = True,
        text: str | None = None,
        timeout: float = 3.0,
    ) -> FeedbackResult:
        """Store the true label of prediction `index` of `request_id`, reported by API key `reporter` (None with
        authentication off); the latest report wins.

        With `any_prediction=False` (a key that may only correct its own predictions) only predictions requested
        by `reporter` are found: another key's request, or one made without authentication, is answered exactly
        as an unknown request_id, so that ids cannot be probed.

        `text`, the message as the reporter sent it, is stored with the report (see `queries.record_feedback`).

        Raises NotFoundError (unknown request, not the reporter's, its rows were rejected, or index out of range),
        InvalidInputError (`text` differs from the stored predicted text), UnavailableError (its rows are still
        queued: the database is unreachable, or the writer down).
        """
        if not any_prediction and reporter is None:
            raise ValueError("any_prediction=False needs the reporter whose own predictions it may correct")
        with self._cond:
            queued = self._pending_requests.get(request_id)
            if queued is not None and not any_prediction and queued[1] != reporter:
                queued = None  # not the reporter's: no wait (and no 503) that would tell it from an unknown id
            if queued is not None and not self._wait_resolved(queued[0], timeout):
                if not self._writer_running:
                    raise UnavailableError(
                        f"the predictions of request {request_id} are not stored yet (the prediction store's writer "
                        "is down, and restarts); retry later",
                        retry_after=max(1, math.ceil(self._writer.first_backoff)),
                    )
                raise UnavailableError(
                    f"the predictions of request {request_id} are not stored yet (the database is unreachable); "
                    "retry later",
                    retry_after=max(1, math.ceil(self._outage.delay)),
                )
        return queries.record_feedback(
            self.database, request_id, index, label, reporter=reporter, any_prediction=any_prediction, text=text
        )

    def statistics(
        self, since: datetime | None = None, until: datetime | None = None, *, reporter: str | None = None
    ) -> list[ModelCounts]:
        """Aggregates per model version of the predictions made in [since, until) (naive UTC), in SQL.

        With `reporter`, the feedback figures count only the feedback whose latest report came from that API key
        (see `queries.counts_by_model`); the prediction figures still count every prediction in the window.
        Rows still queued are written first (unless the writer is down), so the figures include every prediction
        answered so far."""
        self.flush(timeout=3.0)
        return queries.counts_by_model(self.database, since, until, reporter=reporter)

    def shadow_statistics(
        self, since: datetime | None = None, until: datetime | None = None, *, reporter: str | None = None
    ) -> list[ShadowComparison]:
        """Each challenger against the served model on the texts the challenger scored in [since, until) (see
        `queries.shadow_comparison`); rows still queued are written first, as for `statistics`."""
        self.flush(timeout=3.0)
        return queries.shadow_comparison(self.database, since, until, reporter=reporter)
