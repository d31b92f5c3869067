"""Helpers for prediction-store tests: the model fields of a prediction, a table read back, waiting for a state."""

import time

import sqlalchemy as sa

from spam_service.prediction_store.schema import predictions

MODEL = {"model_name": "spam-minilm", "model_version": "v1"}


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
