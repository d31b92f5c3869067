"""The batching writer against SQLite and a real PostgreSQL server: batched writes, flush at close, feedback on
rows not yet written (not waited for when another API key asked for them), an unreachable database (rows wait and
are retried), rows the database refuses (rejected, the rest written) and a crash of the writer thread (restarted)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from spam_service.errors import NotFoundError, UnavailableError
from spam_service.prediction_store import PredictionStore
from spam_service.prediction_store.database import utc_now
from spam_service.prediction_store.schema import feedback, metadata
from spam_service.supervision import ThreadStatus
from tests.support.prediction_store import MODEL, rows_in, wait_until


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


def test_another_keys_request_still_queued_is_refused_at_once_and_its_owner_still_finds_it(make_store):
    store = make_store(flush_interval=60)  # the rows stay queued until something waits for them
    store.add("alice-1", predictions=[("spam", 0.9)], requested_by="alice", **MODEL)
    started = time.monotonic()
    bob = {"reporter": "bob", "any_prediction": False, "timeout": 30}
    with pytest.raises(NotFoundError) as unknown:
        store.record_feedback("never-predicted", 0, "spam", **bob)
    with pytest.raises(NotFoundError) as not_bobs:
        store.record_feedback("alice-1", 0, "spam", **bob)
    assert str(not_bobs.value) == str(unknown.value).replace("'never-predicted'", "'alice-1'")
    assert time.monotonic() - started < 10  # no wait for alice's rows that would tell them from an unknown id
    assert store.status().rows_waiting == 1
    result = store.record_feedback("alice-1", 0, "spam", reporter="alice", any_prediction=False)
    assert result.correct and store.status().rows_waiting == 0


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


# -- rows the database refuses -----------------------------------------------------------------------------------


def test_poison_rows_are_rejected_and_the_rest_of_the_batch_is_written(make_store, store_url, caplog):
    store = make_store(store_texts=True, flush_interval=60)  # every row below goes in one batch
    store.add("good-1", predictions=[("ham", 0.1), ("spam", 0.9)], texts=["hi", "WIN"], **MODEL)
    # PostgreSQL refuses NUL in text (psycopg's DataError): twice, to show one log line per cause.
    store.add("nul", predictions=[("ham", 0.1)] * 3, texts=["SECRET-1 \x00", "fine", "SECRET-2 \x00"], **MODEL)
    store.add("surrogate", predictions=[("ham", 0.1)], texts=["SECRET-3 \ud800"], **MODEL)  # both: ValueError
    store.add("nan", predictions=[("ham", float("nan"))], texts=["x"], **MODEL)  # SQLite: NOT NULL (IntegrityError)
    store.add("x" * 65, predictions=[("ham", 0.1)], texts=["x"], **MODEL)  # PostgreSQL: varchar(64) (DataError)
    store.add("good-2", predictions=[("spam", 0.8)], texts=["end"], **MODEL)
    rejected = {("surrogate", 0)} | (
        {("nul", 0), ("nul", 2), ("x" * 65, 0)} if store_url.startswith("postgresql") else {("nan", 0)}
    )

    assert store.flush(timeout=20)
    stored = {(r.request_id, r.text_index) for r in rows_in(store_url)}
    assert len(stored) == 9 - len(rejected) and not stored & rejected
    assert {("good-1", 0), ("good-1", 1), ("nul", 1), ("good-2", 0)} <= stored
    status = store.status()
    assert (status.rows_rejected, status.rows_written, status.rows_waiting) == (len(rejected), len(stored), 0)
    rejections = [r.getMessage() for r in caplog.records if "cannot be stored" in r.getMessage()]
    causes = 3 if store_url.startswith("postgresql") else 2
    assert len(rejections) == causes, rejections  # once per cause, not once per row
    assert any("row 0 of request surrogate" in line and "surrogates not allowed" in line for line in rejections)
    assert "SECRET" not in caplog.text and "\ud800" not in caplog.text and "\\ud800" not in caplog.text
    assert store.status().last_error is None  # a poison row is no outage


def test_an_outage_is_retried_and_not_taken_for_a_poison_row(outage, open_stores):
    store = PredictionStore(outage.url, store_texts=True, flush_interval=0.05, max_backoff=0.2, busy_timeout=0.2)
    store.start()
    open_stores.append(store)
    with outage.down():
        store.add("first", predictions=[("ham", 0.1)], texts=["a"], **MODEL)
        store.add("poison", predictions=[("ham", 0.1)], texts=["\ud800"], **MODEL)
        store.add("last", predictions=[("ham", 0.1)] * 2, texts=["b", "c"], **MODEL)
        wait_until(lambda: store.status().last_error is not None)
        assert store.status().rows_written == 0
        assert store.status().rows_waiting >= 3  # the good rows wait; the poison one may be found already
    wait_until(lambda: store.status().rows_written == 3, timeout=20)
    assert (store.status().rows_rejected, store.status().rows_waiting) == (1, 0)
    assert sorted(r.request_id for r in rows_in(outage.url)) == ["first", "last", "last"]


def test_a_missing_table_keeps_rows_waiting_rather_than_rejecting_every_one(make_store, store_url):
    """No row is to blame when the table is gone (SQLite: OperationalError, PostgreSQL: ProgrammingError):
    the rows wait and are written once the schema is back."""
    store = make_store(flush_interval=0.05, max_backoff=0.2)
    engine = sa.create_engine(store_url)
    try:
        metadata.drop_all(engine)
        store.add("r1", predictions=[("ham", 0.1), ("spam", 0.9)], **MODEL)
        wait_until(lambda: store.status().last_error is not None)
        status = store.status()
        assert (status.rows_rejected, status.rows_waiting, status.rows_written) == (0, 2, 0)
        metadata.create_all(engine)
    finally:
        engine.dispose()
    wait_until(lambda: store.status().rows_written == 2, timeout=20)
    assert store.status().rows_rejected == 0


# -- a crash of the writer thread --------------------------------------------------------------------------------


def test_the_writer_thread_is_reported_by_threads(tmp_path):
    store = PredictionStore(f"sqlite:///{tmp_path / 'p.sqlite3'}")
    [writer] = store.threads()
    assert writer.status() == ThreadStatus("prediction-store", alive=False, crashes=0, last_crash=None)
    store.start()
    try:
        assert store.threads()[0].status().alive
    finally:
        store.close()
    assert not writer.status().alive


def test_a_crashed_writer_fails_feedback_fast_and_writes_the_queued_rows_after_its_restart(make_store, store_url):
    store = make_store(flush_interval=0.05)
    broken = threading.Event()

    def crash_on_insert(_connection, _cursor, statement, *_args) -> None:
        if broken.is_set() and statement.startswith("INSERT INTO predictions"):
            raise RuntimeError("injected writer crash")

    sa.event.listen(store.database.engine, "before_cursor_execute", crash_on_insert)
    broken.set()
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    [writer] = store.threads()
    wait_until(lambda: writer.status().crashes >= 1)

    # While the writer is down (it crashes again at each restart), nothing waits for it.
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="retry later") as raised:
        store.record_feedback("r1", 0, "spam", timeout=60)
    assert raised.value.retry_after >= 1
    assert not store.flush(timeout=60)
    assert store.statistics() == []
    assert time.monotonic() - started < 30  # far below the 60 s each call would have waited

    broken.clear()
    wait_until(lambda: store.status().rows_written == 2, timeout=60)  # restart back-off doubles per crash
    status = writer.status()
    assert status.alive and status.crashes >= 1 and status.last_crash == "RuntimeError: injected writer crash"
    assert store.record_feedback("r1", 0, "spam").correct
    assert [(r.request_id, r.text_index) for r in rows_in(store_url)] == [("r1", 0), ("r1", 1)]
