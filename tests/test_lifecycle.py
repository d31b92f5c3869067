"""The model lifecycle end to end through a real registry (an MLflow SQLite store of the test's own): two copies of
the trained model registered as the export stage registers them, the service started from
models:/spam-classifier@champion with the alias watched and the challenger shadow-scoring; `models promote` moves the
alias and the watcher swaps; `POST /admin/model {"version": ...}` swaps back and stays; every answer and stored row
names its registry version, and /statistics compares the challenger with the served model."""

import sqlite3

import httpx
import pytest

from spam_service.api import create_app
from spam_service.models.__main__ import main as models_cli
from spam_service.runtime import build_services
from spam_service.settings import Settings
from tests.support.mlflow_stores import publish
from tests.support.model_copies import model_copy
from tests.support.prediction_store import wait_until
from tests.support.samples import HAM, SPAM

pytestmark = pytest.mark.slow


@pytest.fixture
def registered(tracking_store, trained_model_dir, tmp_path) -> tuple[str, str]:
    """Versions 1 and 2 of spam-classifier: the trained model under two digests; 1 is champion, 2 challenger."""
    versions = []
    for digest in ("00000000000a", "00000000000b"):
        workdir = tmp_path / digest
        versions.append(publish(model_copy(trained_model_dir, workdir / "export", version=digest), workdir)[0])
    assert versions == ["1", "2"]
    assert models_cli(["promote", "1", "--alias", "champion"]) == 0
    assert models_cli(["promote", "2", "--alias", "challenger"]) == 0
    return versions[0], versions[1]


def stored_registry_versions(database) -> dict[str, set]:
    with sqlite3.connect(database) as connection:
        served = {row[0] for row in connection.execute("SELECT registry_version FROM predictions")}
        shadow = {row[0] for row in connection.execute("SELECT registry_version FROM shadow_predictions")}
    return {"served": served, "shadow": shadow}


def test_train_register_promote_swap_compare(registered, live_server_factory, tmp_path, capsys):
    database = tmp_path / "predictions.sqlite3"
    settings = Settings(
        _env_file=None,
        model_uri="models:/spam-classifier@champion",
        model_watch_interval_s=0.2,
        model_cache_dir=tmp_path / "model-cache",
        shadow_model_uri="models:/spam-classifier@challenger",
        shadow_sample_rate=1.0,
        prediction_store_url=f"sqlite:///{database}",
        request_log_dir=tmp_path / "logs",
        inference_threads=1,
    )
    live = live_server_factory(create_app(build_services(settings)))

    def predict() -> dict:
        response = httpx.post(f"{live.url}/predict", json={"text": [SPAM, HAM]})
        assert response.status_code == 200, response.text
        return response.json()

    first = predict()
    assert first["model"]["registry_version"] == "1" and first["model"]["version"] == "00000000000a"
    assert [p["label"] for p in first["predictions"]] == ["spam", "ham"]

    # Promotion moves the alias; the watcher notices and swaps, without a restart.
    assert models_cli(["promote", "2", "--alias", "champion"]) == 0
    wait_until(lambda: predict()["model"]["registry_version"] == "2", timeout=30)
    assert "champion" in capsys.readouterr().out

    # An operator's swap by version stays: the watcher follows the alias's moves, and the alias has not moved.
    response = httpx.post(f"{live.url}/admin/model", json={"version": "1"})
    assert response.status_code == 200, response.text
    assert response.json()["current"]["registry_version"] == "1"
    for _ in range(5):
        assert predict()["model"]["registry_version"] == "1"
    assert httpx.post(f"{live.url}/admin/model", json={"version": "9"}).status_code == 404  # no such version

    status = httpx.get(f"{live.url}/status").json()
    assert status["model"]["registry_version"] == "1" and status["model_swap"]["last_error"]
    assert status["shadow"]["model"]["version"] == "00000000000b"
    wait_until(lambda: httpx.get(f"{live.url}/status").json()["shadow"]["scored"] >= 2 * 8)
    wait_until(lambda: stored_registry_versions(database) == {"served": {"1", "2"}, "shadow": {"2"}})

    statistics = httpx.get(f"{live.url}/statistics").json()
    assert {entry["model"]["registry_version"] for entry in statistics["by_model"]} == {"1", "2"}
    [shadow] = statistics["shadow"]
    # The same weights under two digests: they agree on every text.
    assert shadow["model"]["registry_version"] == "2" and shadow["agreement"] == 1.0
