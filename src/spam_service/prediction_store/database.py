"""The prediction store's database: its URL (checked, password masked), an engine set up for SQLite or PostgreSQL,
its schema (migrated by the Alembic scripts shipped in the package), and transactions for requests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from spam_service.errors import UnavailableError, first_line

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
    """Now, as the tables store times: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def alembic_config(*, connection: Connection | None = None, url: URL | None = None) -> Config:
    """Alembic configuration pointing at the migrations inside the package (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    config.attributes["url"] = url
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def describe_error(exc: BaseException) -> str:
    """One line for the log and /status: the driver's first line names the cause (refused, auth, locked)."""
    original = getattr(exc, "orig", None) or exc
    return f"{type(original).__name__}: {first_line(original)}"[:300]


class Database:
    """One store database. The constructor does no I/O; `open` creates the engine, which connects when used."""

    def __init__(self, url: str | URL, *, busy_timeout: float = 5.0) -> None:
        self.url = parse_store_url(url)
        self.kind = self.url.get_backend_name()
        self.target = masked(self.url)
        self.busy_timeout = busy_timeout
        self.engine: Engine | None = None
        self.schema_ready = False  # migrated to the newest schema by this process
        self._migrate_lock = threading.Lock()

    def create_engine(self) -> Engine:
        """An engine for this database, configured as the store uses it (no connection yet)."""
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

    def open(self) -> None:
        self.engine = self.create_engine()

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def migrate(self) -> None:
        """Bring the schema to the newest revision, once per process; raises what the database or Alembic raise."""
        assert self.engine is not None
        if self.schema_ready:
            return
        with self._migrate_lock:  # the writer and a feedback request may both find the schema not ready yet
            if not self.schema_ready:
                self._upgrade(self.engine)

    def _upgrade(self, engine: Engine) -> None:
        with engine.begin() as connection:
            if self.kind == "postgresql":
                # Replicas starting together: one migrates, the others wait for it and then find the schema current.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            current = MigrationContext.configure(connection).get_current_revision()
            command.upgrade(alembic_config(connection=connection), "head")
        head = head_revision()
        if current != head:
            _logger.info("prediction store %s: schema migrated from %s to %s", self.target, current, head)
        self.schema_ready = True

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction for a request; a database that cannot be reached becomes `UnavailableError` (503, retry
        later)."""
        if self.engine is None:
            raise UnavailableError("the prediction store is not running")
        try:
            self.migrate()
            with self.engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            if not isinstance(exc, OperationalError | InterfaceError):
                raise
            _logger.error("prediction store %s: %s", self.target, describe_error(exc))
            raise UnavailableError(
                "the prediction store's database is unreachable right now; retry later (GET /status shows the error)"
            ) from exc

    def insert(self, table: sa.Table) -> Any:
        """An INSERT in this database's dialect, which has ON CONFLICT clauses."""
        return (sqlite.insert if self.kind == "sqlite" else postgresql.insert)(table)
