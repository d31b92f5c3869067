"""The prediction store: one row per predicted text, written in batches off the request path; feedback; statistics.

`add` (called on the event loop by /predict) only appends rows to an in-memory queue. A writer thread inserts
them in batches (one executemany per batch) every `flush_interval` seconds, or sooner once `batch_rows` wait.
If the database refuses, the rows stay queued, in order, and are retried with back-off; past `max_pending` new
rows are dropped with a warning (the request log still has every prediction). `close` writes what is queued.

Feedback and statistics run on the caller's thread (the API hands them to a worker thread). Feedback for a
request whose rows are still queued first waits for the writer to store them, so a client that sends feedback
right after its /predict answer never gets a false 404.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from spam_service.errors import InvalidInputError, NotFoundError, StartupError, UnavailableError, first_line
from spam_service.outage import OutageTracker
from spam_service.prediction_store.schema import feedback, predictions

_logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SUPPORTED = ("sqlite", "postgresql")
MIGRATION_LOCK_KEY = 0x5BA3_0001  # PostgreSQL advisory lock held while migrating
URL_EXAMPLES = "sqlite:///data/predictions.sqlite3 or postgresql+psycopg://user:password@host:5432/dbname"


def parse_store_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy reads it; ValueError (without the URL, which may hold a password) if unusable."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not an SQLAlchemy database URL; use e.g. {URL_EXAMPLES}") from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise ValueError(f"database {parsed.get_backend_name()!r} is not supported; use e.g. {URL_EXAMPLES}")
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        # The driver the service ships (psycopg 3): what a bare postgresql:// means with SQLAlchemy 2.1, not 2.0.
        raise ValueError(f"use the psycopg driver: postgresql+psycopg://..., not {parsed.drivername}://...")
    return parsed


def masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    request_id: str
    index: int
    label: str
    predicted_label: str
    model_name: str
    model_version: str
    changed: bool  # stored something new (first feedback, or a different label)
    replaced: str | None  # the earlier, different label this one replaced

    @property
    def correct(self) -> bool:
        return self.label == self.predicted_label


@dataclass(frozen=True, slots=True)
class Counts:
    """Aggregates of one model version (or of all): counts from SQL, rates derived here (None when undefined)."""

    predictions: int
    spam_predicted: int
    with_feedback: int
    correct: int
    true_spam: int  # predicted spam, fed back spam
    fed_back_predicted_spam: int
    fed_back_spam: int

    @staticmethod
    def _ratio(numerator: int, denominator: int) -> float | None:
        return round(numerator / denominator, 6) if denominator else None

    @property
    def spam_share(self) -> float | None:
        return self._ratio(self.spam_predicted, self.predictions)

    @property
    def correctness_rate(self) -> float | None:
        return self._ratio(self.correct, self.with_feedback)

    @property
    def spam_precision(self) -> float | None:
        return self._ratio(self.true_spam, self.fed_back_predicted_spam)

    @property
    def spam_recall(self) -> float | None:
        return self._ratio(self.true_spam, self.fed_back_spam)

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__))


@dataclass(frozen=True, slots=True)
class ModelCounts:
    model_name: str
    model_version: str
    first_prediction: datetime
    last_prediction: datetime
    counts: Counts


def alembic_config(*, connection: Connection | None = None, url: URL | None = None) -> Config:
    """Alembic configuration pointing at the migrations inside the package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _describe(exc: BaseException) -> str:
    """One line for the log and /status: the driver's first line names the cause (refused, auth, locked)."""
    original = getattr(exc, "orig", None) or exc
    return f"{type(original).__name__}: {first_line(original)}"[:300]


class PredictionStore:
    """Stores predictions and feedback in SQLite or PostgreSQL. The constructor does no I/O; `start` connects."""

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
        self.url = parse_store_url(url)
        self.kind = self.url.get_backend_name()
        self.target = masked(self.url)
        self.store_texts = store_texts
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.max_pending = max_pending
        self.busy_timeout = busy_timeout
        self._engine: Engine | None = None
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
        self._schema_ready = False
        self._migrate_lock = threading.Lock()
        self._written = 0
        self._dropped = 0
        self._outage = OutageTracker(_logger, first_delay=0.1, max_delay=max_backoff)
        self._last_drop_warning = 0.0

    # -- life cycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and migrate to the newest schema. An unreachable database does not stop start-up: the writer
        keeps trying (rows wait in memory meanwhile). Any other migration failure raises `StartupError`."""
        self._engine = self.create_engine()
        try:
            self._migrate()
        except (OperationalError, InterfaceError) as exc:
            message = _describe(exc)
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
                f"prediction store {self.target}: migrating the schema failed: {_describe(exc)}; check that "
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
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def create_engine(self) -> Engine:
        """An engine for this store's database, configured as the store uses it (no connection yet)."""
        if self.kind == "sqlite":
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(self.url, connect_args={"timeout": self.busy_timeout})

            @sa.event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")  # SQLite enforces foreign keys only when asked
                cursor.execute("PRAGMA journal_mode=WAL")  # readers (statistics) do not block the writer
                cursor.close()

            return engine
        return sa.create_engine(
            self.url,
            pool_pre_ping=True,  # a connection the server dropped (restart, failover) is replaced, not used
            pool_size=4,
            connect_args={"connect_timeout": max(1, round(self.busy_timeout))},
        )

    def _migrate(self) -> None:
        assert self._engine is not None
        with self._migrate_lock:  # the writer and a feedback request may both find the schema not ready yet
            if not self._schema_ready:
                self._upgrade()

    def _upgrade(self) -> None:
        assert self._engine is not None
        with self._engine.begin() as connection:
            if self.kind == "postgresql":
                # Replicas starting together: one migrates, the others wait for it and then find the schema current.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            current = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(alembic_config(connection=connection), "head")
        head = head_revision()
        if current != head:
            _logger.info("prediction store %s: schema migrated from %s to %s", self.target, current, head)
        self._schema_ready = True

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
        assert self._engine is not None
        try:
            if not self._schema_ready:
                self._migrate()
            with self._engine.begin() as connection:
                # A retry after a commit whose acknowledgement was lost must not fail on (or duplicate) its rows.
                statement = self._insert(predictions).on_conflict_do_nothing(
                    index_elements=["request_id", "text_index"]
                )
                connection.execute(statement, [row.values() for _, row in batch])
        except (SQLAlchemyError, OSError) as exc:
            message = _describe(exc)
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

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert if self.kind == "sqlite" else postgresql.insert)(table)

    # -- status -------------------------------------------------------------------------------------------------

    @property
    def rows_waiting(self) -> int:
        return len(self._pending)

    def status(self) -> StoreStatus:
        return StoreStatus(
            kind=self.kind,
            target=self.target,
            schema_ready=self._schema_ready,
            rows_waiting=len(self._pending),
            rows_written=self._written,
            rows_dropped=self._dropped,
            last_error=self._outage.last_error,
        )

    # -- feedback and statistics (blocking: call them from a worker thread) ------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction; a database that cannot be reached becomes `UnavailableError` (503, retry later)."""
        if self._engine is None:
            raise UnavailableError("the prediction store is not running")
        try:
            if not self._schema_ready:
                self._migrate()
            with self._engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            if not isinstance(exc, OperationalError | InterfaceError):
                raise
            _logger.error("prediction store %s: %s", self.target, _describe(exc))
            raise UnavailableError(
                "the prediction store's database is unreachable right now; retry later (GET /status shows the error)"
            ) from exc

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
        with self._transaction() as connection:
            rows = connection.execute(
                sa.select(predictions.c.text_index, predictions.c.label, predictions.c.model_name,
                          predictions.c.model_version)
                .where(predictions.c.request_id == request_id)
                .order_by(predictions.c.text_index)
            ).all()  # fmt: skip
            if not rows:
                raise NotFoundError(
                    f"no predictions are stored for request_id {request_id!r}: send the request_id of a /predict "
                    "response (its body's request_id, or its X-Request-ID header)"
                )
            if not 0 <= index < len(rows):
                raise InvalidInputError(
                    f"request {request_id} has {len(rows)} prediction{'s' if len(rows) != 1 else ''}; "
                    f"index must be 0..{len(rows) - 1} (the position of the text in that request)"
                )
            prediction = rows[index]
            key = (feedback.c.request_id == request_id) & (feedback.c.text_index == index)
            earlier = connection.execute(sa.select(feedback.c.label).where(key)).scalar_one_or_none()
            if earlier != label:
                statement = self._insert(feedback).values(
                    request_id=request_id, text_index=index, label=label, received_at=utc_now()
                )
                statement = statement.on_conflict_do_update(
                    index_elements=["request_id", "text_index"],
                    set_={"label": statement.excluded.label, "received_at": statement.excluded.received_at},
                )
                connection.execute(statement)
        return FeedbackResult(
            request_id=request_id,
            index=index,
            label=label,
            predicted_label=prediction.label,
            model_name=prediction.model_name,
            model_version=prediction.model_version,
            changed=earlier != label,
            replaced=earlier if earlier is not None and earlier != label else None,
        )

    def statistics(self, since: datetime | None = None, until: datetime | None = None) -> list[ModelCounts]:
        """Aggregates per model version of the predictions made in [since, until) (naive UTC), in SQL.

        Rows still queued are written first, so the figures include every prediction answered so far."""
        self.flush(timeout=3.0)
        p, f = predictions, feedback

        def count_if(condition: Any) -> Any:
            return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

        predicted_spam = p.c.label == "spam"
        statement = (
            sa.select(
                p.c.model_name,
                p.c.model_version,
                sa.func.min(p.c.predicted_at),
                sa.func.max(p.c.predicted_at),
                sa.func.count(),
                count_if(predicted_spam),
                sa.func.count(f.c.label),
                count_if(f.c.label == p.c.label),
                count_if(predicted_spam & (f.c.label == "spam")),
                count_if(predicted_spam & f.c.label.is_not(None)),
                count_if(f.c.label == "spam"),
            )
            .select_from(p.outerjoin(f, (f.c.request_id == p.c.request_id) & (f.c.text_index == p.c.text_index)))
            .group_by(p.c.model_name, p.c.model_version)
            .order_by(sa.func.min(p.c.predicted_at))
        )
        if since is not None:
            statement = statement.where(p.c.predicted_at >= since)
        if until is not None:
            statement = statement.where(p.c.predicted_at < until)
        with self._transaction() as connection:
            rows = connection.execute(statement).all()
        return [
            ModelCounts(name, version, first, last, Counts(*(int(value) for value in counts)))
            for name, version, first, last, *counts in rows
        ]
