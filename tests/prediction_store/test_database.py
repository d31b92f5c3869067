"""The store's database: the URL checked before any I/O, the schema migrated as the code defines it (from an empty
database, and in place from revision 0001 with its rows), errors described in one line."""

import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from spam_service.prediction_store import PredictionStore
from spam_service.prediction_store.database import Database, alembic_config, describe_error, head_revision, utc_now
from spam_service.prediction_store.schema import feedback, metadata
from tests.support.prediction_store import MODEL, rows_in


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


def test_the_url_is_checked_before_any_io_and_its_password_never_shown():
    with pytest.raises(ValueError, match="'mysql' is not supported") as refused:
        PredictionStore("mysql://user:hunter2@db/predictions")
    assert "hunter2" not in str(refused.value)
    store = PredictionStore("postgresql+psycopg://user:hunter2@db.invalid:5432/predictions")
    assert store.target == "postgresql+psycopg://user:***@db.invalid:5432/predictions"
    assert "hunter2" not in repr(store.status())


def test_an_error_is_described_by_its_driver_cause_type_and_first_line():
    cause = sqlite3.OperationalError("database is locked\n(background on this error at ...)")
    assert describe_error(OperationalError("INSERT INTO predictions ...", {}, cause)) == (
        "OperationalError: database is locked"
    )
    assert describe_error(ValueError("x" * 1000)) == "ValueError: " + "x" * 288  # 300 characters at most


def upgrade_to(url: str, revision: str, *, down: bool = False) -> None:
    database = Database(url)
    engine = database.create_engine()  # the store's own engine: SQLite with foreign keys (and cascades) on
    try:
        with engine.begin() as connection:
            (command.downgrade if down else command.upgrade)(alembic_config(connection=connection), revision)
    finally:
        engine.dispose()


def test_a_database_at_revision_0001_is_migrated_in_place_at_start_up_and_keeps_its_rows(make_store, store_url):
    upgrade_to(store_url, "0001")
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as connection:  # rows as release 0001 wrote them (its columns only)
            connection.execute(
                sa.text(
                    "INSERT INTO predictions (request_id, text_index, label, spam_probability, model_name, "
                    "model_version, predicted_at) VALUES ('old', 0, 'spam', 0.9, 'spam-minilm', 'v1', :at), "
                    "('old', 1, 'ham', 0.1, 'spam-minilm', 'v1', :at)"
                ),
                {"at": utc_now()},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO feedback (request_id, text_index, label, received_at) VALUES ('old', 1, 'spam', :at)"
                ),
                {"at": utc_now()},
            )
    finally:
        engine.dispose()

    store = make_store()
    assert [(r.request_id, r.text_index, r.label, r.requested_by) for r in rows_in(store_url)] == [
        ("old", 0, "spam", None),
        ("old", 1, "ham", None),
    ]
    assert [(r.text_index, r.label, r.reported_by) for r in rows_in(store_url, feedback)] == [(1, "spam", None)]
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert context.get_current_revision() == head_revision() != "0001"
            assert compare_metadata(context, metadata) == []  # migrated, it is what schema.py defines
    finally:
        engine.dispose()
    [entry] = store.statistics()
    assert (entry.counts.predictions, entry.counts.with_feedback, entry.counts.correct) == (2, 1, 0)
    # Old rows have no owner: only a key allowed feedback on any prediction can correct them.
    assert store.record_feedback("old", 0, "spam", reporter="admin-key").changed


def test_downgrading_to_0001_drops_the_provenance_columns_and_keeps_every_row(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], requested_by="alice", **MODEL)
    store.record_feedback("r1", 0, "ham", reporter="alice")
    store.close()
    upgrade_to(store_url, "0001", down=True)  # SQLite: no table copy, whose DROP would cascade to the feedback
    engine = sa.create_engine(store_url)
    try:
        inspector = sa.inspect(engine)
        assert "requested_by" not in {c["name"] for c in inspector.get_columns("predictions")}
        assert "reported_by" not in {c["name"] for c in inspector.get_columns("feedback")}
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT request_id, label FROM feedback")).all() == [("r1", "ham")]
            assert connection.execute(sa.text("SELECT count(*) FROM predictions")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_database_at_revision_0002_is_migrated_in_place_and_keeps_its_rows_and_feedback(make_store, store_url):
    upgrade_to(store_url, "0002")
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as connection:  # rows as release 0002 wrote them
            connection.execute(
                sa.text(
                    "INSERT INTO predictions (request_id, text_index, label, spam_probability, model_name, "
                    "model_version, predicted_at, requested_by) VALUES ('old', 0, 'spam', 0.9, 'spam-minilm', 'v1', "
                    ":at, 'alice')"
                ),
                {"at": utc_now()},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO feedback (request_id, text_index, label, received_at, reported_by) "
                    "VALUES ('old', 0, 'ham', :at, 'alice')"
                ),
                {"at": utc_now()},
            )
    finally:
        engine.dispose()

    store = make_store()
    assert [(r.request_id, r.requested_by, r.registry_version) for r in rows_in(store_url)] == [("old", "alice", None)]
    assert [(r.label, r.reported_by) for r in rows_in(store_url, feedback)] == [("ham", "alice")]
    store.add_shadow(
        "old", model_name="spam-minilm", model_version="v2", registry_version="2", predictions=[("ham", 0.2)]
    )
    [comparison] = store.shadow_statistics()
    assert (comparison.served.correct, comparison.challenger.correct, comparison.agreeing) == (0, 1, 0)


def test_downgrading_to_0002_drops_the_registry_version_and_shadow_rows_and_keeps_the_feedback(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], registry_version="3", **MODEL)
    store.add_shadow(
        "r1", model_name="spam-minilm", model_version="v2", registry_version="4", predictions=[("ham", 0.1)]
    )
    store.record_feedback("r1", 0, "ham")
    store.close()
    upgrade_to(store_url, "0002", down=True)
    engine = sa.create_engine(store_url)
    try:
        inspector = sa.inspect(engine)
        assert "registry_version" not in {c["name"] for c in inspector.get_columns("predictions")}
        assert "shadow_predictions" not in inspector.get_table_names()
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT request_id, label FROM feedback")).all() == [("r1", "ham")]
    finally:
        engine.dispose()


def test_a_database_at_revision_0003_gains_the_feedback_text_and_keeps_its_feedback(make_store, store_url):
    upgrade_to(store_url, "0003")
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as connection:  # rows as release 0003 wrote them
            connection.execute(
                sa.text(
                    "INSERT INTO predictions (request_id, text_index, label, spam_probability, model_name, "
                    "model_version, predicted_at) VALUES ('old', 0, 'spam', 0.9, 'spam-minilm', 'v1', :at)"
                ),
                {"at": utc_now()},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO feedback (request_id, text_index, label, received_at) VALUES ('old', 0, 'ham', :at)"
                ),
                {"at": utc_now()},
            )
    finally:
        engine.dispose()

    store = make_store()
    assert [(r.label, r.text) for r in rows_in(store_url, feedback)] == [("ham", None)]
    store.record_feedback("old", 0, "ham", text="Lunch at noon?")
    assert [(r.label, r.text) for r in rows_in(store_url, feedback)] == [("ham", "Lunch at noon?")]
    store.close()
    upgrade_to(store_url, "0003", down=True)
    engine = sa.create_engine(store_url)
    try:
        assert "text" not in {c["name"] for c in sa.inspect(engine).get_columns("feedback")}
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT request_id, label FROM feedback")).all() == [("old", "ham")]
    finally:
        engine.dispose()
