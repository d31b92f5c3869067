"""The store's database: the URL checked before any I/O, the schema migrated as the code defines it, errors
described in one line."""

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from spam_service.prediction_store import PredictionStore
from spam_service.prediction_store.database import describe_error, head_revision
from spam_service.prediction_store.schema import metadata


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
