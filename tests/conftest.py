"""Shared fixtures. Servers run for real on loopback ports picked at run time; nothing is mocked."""

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from spam_service.api import create_app
from spam_service.model.classifier import SpamClassifier
from spam_service.runtime import load_classifier
from spam_service.settings import DEFAULT_MODEL_DIR, Settings
from tests.support import REPO_ROOT
from tests.support.live_server import LiveServer, free_port, start_live_server
from tests.support.services import services_around
from tests.support.tiny_models import build_tiny_checkpoint


@pytest.fixture(scope="session")
def trained_model_dir() -> Path:
    """The pipeline's exported model. `make test` produces it first; without it the suite fails, loudly."""
    path = REPO_ROOT / DEFAULT_MODEL_DIR
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"no trained model in {path}: run `make model` (dvc repro) before the tests", pytrace=False)
    return path


@pytest.fixture(scope="session")
def trained_classifier(trained_model_dir: Path) -> SpamClassifier:
    return load_classifier(Settings(model_dir=trained_model_dir, inference_threads=2))


MODEL_SETTINGS = {"max_tokens", "spam_threshold", "combine_baseline", "inference_batch_size", "inference_backend"}


@pytest.fixture
def make_app(trained_classifier: SpamClassifier, trained_model_dir: Path, tmp_path: Path):
    """Build an app around the trained model with a request log under tmp_path; settings overridable (a setting
    of the model itself loads the model again with it)."""

    def make(**overrides):
        values = {"request_log_dir": tmp_path / "logs", "model_dir": trained_model_dir, "inference_threads": 2}
        settings = Settings(**{**values, **overrides})
        classifier = load_classifier(settings) if MODEL_SETTINGS & overrides.keys() else trained_classifier
        return create_app(services_around(classifier, settings)), settings

    return make


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-bert"), "bert")


@pytest.fixture(scope="session")
def tiny_distilbert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-distilbert"), "distilbert")


@pytest.fixture
def live_server_factory() -> Iterator:
    """Start apps under uvicorn; each is stopped (lifespan shutdown included) at teardown."""
    started: list[LiveServer] = []

    def start(app) -> LiveServer:
        live = start_live_server(app)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def openbao() -> Iterator:
    """A real OpenBao dev server (Vault API) for the session."""
    from tests.support.servers.openbao import start_openbao

    server = start_openbao(free_port())
    yield server
    server.stop()


@pytest.fixture
def webhdfs() -> Iterator:
    """A WebHDFS test server (namenode + datanode on two loopback ports) per test."""
    from tests.support.servers.webhdfs import WebHdfsServer

    with WebHdfsServer() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _prediction_store_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps and processes the tests start without naming a prediction store write to a temporary SQLite file,
    not to data/predictions.sqlite3 in the working directory."""
    values = {
        "PREDICTION_STORE_URL": f"sqlite:///{tmp_path_factory.mktemp('prediction-store') / 'predictions.sqlite3'}",
        # Nor do they read a developer's data/api-keys.json: an empty store, so apps on loopback are open.
        "API_KEYS_FILE": str(tmp_path_factory.mktemp("api-keys") / "api-keys.json"),
    }
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def _mlflow_tracking_store_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Whatever a test runs (a pipeline stage, the models CLI, a service resolving models:/ URIs) tracks to an
    SQLite store in a temporary directory, never to ./mlruns; MLflow creates it on first use."""
    name = "MLFLOW_TRACKING_URI"
    before = os.environ.get(name)
    os.environ[name] = f"sqlite:///{tmp_path_factory.mktemp('mlflow-session') / 'mlflow.db'}"
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(scope="session")
def mlflow_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.mlflow_stores import create_template_store

    return create_template_store(tmp_path_factory.mktemp("mlflow-template"))


@pytest.fixture
def tracking_store(mlflow_store_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty MLflow SQLite store for one test (a copy of the template), set as MLFLOW_TRACKING_URI."""
    from tests.support.mlflow_stores import STORE_FILE, store_uri

    database = tmp_path / "mlflow-store" / STORE_FILE
    database.parent.mkdir()
    shutil.copyfile(mlflow_store_template, database)
    uri = store_uri(database)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri


@pytest.fixture(scope="session")
def postgres() -> Iterator:
    """A real PostgreSQL server for the session (Debian's binaries; fails loudly when they are missing)."""
    from tests.support.servers.postgres import start_postgres

    server = start_postgres(free_port())
    yield server
    server.stop()
    server.remove()


@pytest.fixture(scope="module")
def stoppable_postgres() -> Iterator:
    """A PostgreSQL server of one test module's own, for tests that stop it (each must leave it running)."""
    from tests.support.servers.postgres import start_postgres

    server = start_postgres(free_port())
    yield server
    server.stop()
    server.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database per test: an SQLite file, or a new database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'predictions.sqlite3'}"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"test_{uuid.uuid4().hex[:12]}")
