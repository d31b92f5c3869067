"""The prediction store against SQLite and a real PostgreSQL server: migrations, batched writes, flush at close,
feedback on rows not yet written, statistics in SQL, and an unreachable database (rows wait and are retried)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from spam_service.errors import InvalidInputError, NotFoundError, UnavailableError
from spam_service.prediction_store import PredictionStore
from spam_service.prediction_store.schema import feedback, metadata, predictions
from spam_service.prediction_store.store import head_revision, utc_now

MODEL = {"model_name": "spam-minilm", "model_version": "v1"}


@pytest.fixture
def open_stores() -> Iterator[list[PredictionStore]]:
    stores: list[PredictionStore] = []
    yield stores
    for store in stores:
        store.close(timeout=2)


@pytest.fixture
def make_store(store_url, open_stores):
    def make(url: str = store_url, **options) -> PredictionStore:
        store = PredictionStore(url, **options)
        store.start()
        open_stores.append(store)
        return store

    return make


def rows_in(url: str, table: sa.Table = predictions) -> list[sa.Row]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
    finally:
        engine.dispose()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_start_migrates_an_empty_database_to_the_schema_the_code_defines(make_store, store_url):
    store = make_store()
    assert store.status().schema_ready
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, metadata) == []  # migrations and schema.py agree
    finally:
        engine.dispose()
    make_store()  # a second start (another replica, a restart) finds the schema current


def test_rows_are_written_in_batches_by_size_before_the_interval(make_store, store_url):
    store = make_store(flush_interval=30, batch_rows=100)
    for i in range(250):
        store.add(f"r{i}", predictions=[("ham", 0.1)], **MODEL)
    wait_until(lambda: store.status().rows_written == 200)  # two full batches, long before 30 s
    assert store.status().rows_waiting == 50
    assert store.flush(timeout=10)
    assert store.status().rows_written == 250 and len(rows_in(store_url)) == 250


def test_rows_are_written_within_the_flush_interval(make_store, store_url):
    store = make_store(flush_interval=0.1)
    store.add("r1", predictions=[("spam", 0.97), ("ham", 0.02)], texts=["WIN", "hi"], **MODEL)
    wait_until(lambda: store.status().rows_written == 2, timeout=5)
    stored = rows_in(store_url)
    assert [(r.request_id, r.text_index, r.label, r.model_version) for r in stored] == [
        ("r1", 0, "spam", "v1"),
        ("r1", 1, "ham", "v1"),
    ]
    assert stored[0].spam_probability == pytest.approx(0.97)
    assert abs(stored[0].predicted_at - utc_now()) < timedelta(minutes=1)
    assert [r.text for r in stored] == [None, None]  # texts only with store_texts


def test_texts_are_stored_when_configured(make_store, store_url):
    store = make_store(store_texts=True)
    store.add("r1", predictions=[("spam", 0.97), ("ham", 0.02)], texts=["WIN a prize ✨", ""], **MODEL)
    assert store.flush()
    assert [r.text for r in rows_in(store_url)] == ["WIN a prize ✨", ""]


def test_close_writes_every_queued_row(store_url):
    store = PredictionStore(store_url, flush_interval=60, batch_rows=10_000)
    store.start()
    for i in range(30):
        store.add(f"r{i}", predictions=[("ham", 0.1), ("spam", 0.9)], **MODEL)
    assert store.status().rows_written == 0
    store.close()
    assert len(rows_in(store_url)) == 60


def test_feedback_right_after_predicting_finds_rows_not_yet_written(make_store, store_url):
    store = make_store(flush_interval=60)  # the writer would not write for a minute on its own
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    result = store.record_feedback("r1", 1, "spam")
    assert (result.predicted_label, result.correct, result.changed, result.replaced) == ("ham", False, True, None)
    assert (result.model_name, result.model_version) == ("spam-minilm", "v1")
    assert [(r.request_id, r.text_index, r.label) for r in rows_in(store_url, feedback)] == [("r1", 1, "spam")]


def test_feedback_twice_is_idempotent_and_a_different_label_replaces_it(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], **MODEL)
    first = store.record_feedback("r1", 0, "spam")
    again = store.record_feedback("r1", 0, "spam")
    assert (first.changed, first.replaced, again.changed, again.replaced) == (True, None, False, None)
    assert len(rows_in(store_url, feedback)) == 1
    changed = store.record_feedback("r1", 0, "ham")
    assert (changed.changed, changed.replaced, changed.correct) == (True, "spam", False)
    assert [r.label for r in rows_in(store_url, feedback)] == ["ham"]


def test_feedback_for_an_unknown_request_or_index_is_refused_with_what_to_send(make_store):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    with pytest.raises(NotFoundError, match=r"no predictions are stored for request_id 'nope'.*X-Request-ID"):
        store.record_feedback("nope", 0, "spam")
    for index in (2, -1):
        with pytest.raises(InvalidInputError, match=r"request r1 has 2 predictions; index must be 0\.\.1"):
            store.record_feedback("r1", index, "spam")


def test_statistics_count_per_model_version_with_agreement_precision_and_recall(make_store):
    store = make_store()
    # v1: 4 predictions (2 spam); feedback on 3: spam->spam (TP), spam->ham (FP), ham->spam (FN)
    store.add("a", predictions=[("spam", 0.9), ("spam", 0.8), ("ham", 0.1), ("ham", 0.2)], **MODEL)
    # v2: 2 predictions, no feedback
    store.add("b", predictions=[("ham", 0.1), ("spam", 0.7)], model_name="spam-minilm", model_version="v2")
    for index, label in ((0, "spam"), (1, "ham"), (2, "spam")):
        store.record_feedback("a", index, label)
    assert store.flush()
    by_version = {entry.model_version: entry.counts for entry in store.statistics()}
    v1, v2 = by_version["v1"], by_version["v2"]
    assert (v1.predictions, v1.spam_predicted, v1.with_feedback, v1.correct) == (4, 2, 3, 1)
    assert (v1.spam_share, v1.correctness_rate) == (0.5, pytest.approx(1 / 3, abs=1e-6))
    assert (v1.spam_precision, v1.spam_recall) == (0.5, 0.5)
    assert (v2.predictions, v2.spam_predicted, v2.with_feedback) == (2, 1, 0)
    assert (v2.correctness_rate, v2.spam_precision, v2.spam_recall) == (None, None, None)  # undefined, not 0


def test_statistics_filter_on_prediction_time(make_store):
    store = make_store()
    store.add("a", predictions=[("spam", 0.9)], **MODEL)
    assert store.flush()
    later = utc_now() + timedelta(seconds=1)
    assert [e.counts.predictions for e in store.statistics(since=later - timedelta(hours=1))] == [1]
    assert store.statistics(since=later) == []
    assert store.statistics(until=later - timedelta(hours=1)) == []
    assert [e.counts.predictions for e in store.statistics(until=later)] == [1]


# -- an unreachable database -------------------------------------------------------------------------------------


class Outage:
    """Makes the store's database refuse writes: SQLite locked by another connection, PostgreSQL stopped."""

    def __init__(self, kind: str, url: str, server=None) -> None:
        self.kind, self.url, self.server = kind, url, server
        self._lock: sqlite3.Connection | None = None

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        if self.kind == "sqlite":
            self._lock = sqlite3.connect(sa.make_url(self.url).database, isolation_level=None)
            self._lock.execute("BEGIN EXCLUSIVE")
        else:
            self.server.stop()
        try:
            yield
        finally:
            if self._lock is not None:
                self._lock.rollback()
                self._lock.close()
                self._lock = None
            else:
                self.server.start()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, tmp_path) -> Outage:
    if request.param == "sqlite":
        return Outage("sqlite", f"sqlite:///{tmp_path / 'predictions.sqlite3'}")
    server = request.getfixturevalue("stoppable_postgres")
    return Outage("postgresql", server.create_database(f"test_{uuid.uuid4().hex[:12]}"), server)


def test_rows_wait_in_memory_while_the_database_is_down_and_are_written_when_it_is_back(outage, open_stores, caplog):
    store = PredictionStore(outage.url, flush_interval=0.05, max_backoff=0.2, busy_timeout=0.2)
    store.start()
    open_stores.append(store)
    store.add("before", predictions=[("ham", 0.1)], **MODEL)
    assert store.flush()
    with outage.down():
        store.add("during", predictions=[("spam", 0.9), ("ham", 0.2)], **MODEL)
        wait_until(lambda: store.status().last_error is not None)
        status = store.status()
        assert (status.rows_waiting, status.rows_written) == (2, 1)
        assert "cannot write to" in caplog.text and "2 rows wait in memory" in caplog.text
        with pytest.raises(UnavailableError, match="retry later"):
            store.record_feedback("during", 0, "spam", timeout=0.5)
    wait_until(lambda: store.status().rows_written == 3, timeout=20)
    assert store.status().last_error is None and store.status().rows_waiting == 0
    assert sorted(r.request_id for r in rows_in(outage.url)) == ["before", "during", "during"]
    assert store.record_feedback("during", 0, "spam").correct


def test_past_the_memory_bound_new_rows_are_dropped_with_a_warning(outage, open_stores, caplog):
    store = PredictionStore(outage.url, flush_interval=0.05, max_backoff=0.2, busy_timeout=0.2, max_pending=3)
    store.start()
    open_stores.append(store)
    with outage.down():
        store.add("kept", predictions=[("ham", 0.1)] * 3, **MODEL)
        store.add("dropped", predictions=[("ham", 0.1)], **MODEL)
        assert store.status().rows_dropped == 1
        assert "new predictions are NOT stored" in caplog.text
    wait_until(lambda: store.status().rows_written == 3, timeout=20)
    with pytest.raises(NotFoundError):
        store.record_feedback("dropped", 0, "ham")


def test_a_postgresql_server_down_at_start_up_does_not_stop_the_store(stoppable_postgres, open_stores):
    url = stoppable_postgres.create_database(f"test_{uuid.uuid4().hex[:12]}")
    with Outage("postgresql", url, stoppable_postgres).down():
        store = PredictionStore(url, flush_interval=0.05, max_backoff=0.2, busy_timeout=1)
        store.start()  # no exception: the writer migrates once the server answers
        open_stores.append(store)
        assert not store.status().schema_ready and store.status().last_error
        store.add("r1", predictions=[("spam", 0.9)], **MODEL)
    wait_until(lambda: store.status().rows_written == 1, timeout=20)
    assert store.status().schema_ready


def test_the_url_is_checked_before_any_io_and_its_password_never_shown():
    with pytest.raises(ValueError, match="'mysql' is not supported") as refused:
        PredictionStore("mysql://user:hunter2@db/predictions")
    assert "hunter2" not in str(refused.value)
    store = PredictionStore("postgresql+psycopg://user:hunter2@db.invalid:5432/predictions")
    assert store.target == "postgresql+psycopg://user:***@db.invalid:5432/predictions"
    assert "hunter2" not in repr(store.status())


def run_migrations_cli(action: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spam_service.prediction_store", action],
        env={**os.environ, "PREDICTION_STORE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_migrations_command_prints_the_ddl_and_upgrades_a_database(store_url):
    sql = run_migrations_cli("sql", store_url)
    assert sql.returncode == 0, sql.stderr
    assert "CREATE TABLE predictions" in sql.stdout and "CREATE TABLE feedback" in sql.stdout
    assert "schema at none" in run_migrations_cli("current", store_url).stdout  # `sql` applied nothing
    upgraded = run_migrations_cli("upgrade", store_url)
    assert upgraded.returncode == 0 and f"schema at {head_revision()}" in upgraded.stdout, upgraded.stderr
    current = run_migrations_cli("current", store_url).stdout
    assert f"schema at {head_revision()}; newest is {head_revision()}" in current
    password = sa.make_url(store_url).password
    assert not password or password not in sql.stdout + sql.stderr + upgraded.stdout + upgraded.stderr + current
