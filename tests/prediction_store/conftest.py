"""Stores started on the test's database (`store_url`: SQLite and PostgreSQL) and closed after the test."""

from collections.abc import Iterator

import pytest

from spam_service.prediction_store import PredictionStore


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
