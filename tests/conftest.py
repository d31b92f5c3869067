"""Shared fixtures. Servers run for real on loopback ports picked at run time; nothing is mocked."""

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from spam_service.settings import DEFAULT_MODEL_DIR
from tests.tiny_models import build_tiny_checkpoint

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def trained_model_dir() -> Path:
    """The pipeline's exported model. `make test` produces it first; without it the suite fails, loudly."""
    path = REPO_ROOT / DEFAULT_MODEL_DIR
    if not (path / "model.safetensors").is_file():
        pytest.fail(f"no trained model in {path}: run `make model` (dvc repro) before the tests", pytrace=False)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-bert"), "bert")


@pytest.fixture(scope="session")
def tiny_distilbert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-distilbert"), "distilbert")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_live_server(app, *, timeout: float = 60.0) -> LiveServer:
    """Run `app` under a real uvicorn in a thread; return once /health answers."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.started:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    return LiveServer(url, app, server, thread)
            except httpx.TransportError:
                pass
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during start-up")
        time.sleep(0.05)
    server.should_exit = True
    raise TimeoutError(f"uvicorn did not start on {url} within {timeout} s")


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
    from tests.servers.openbao import start_openbao

    server = start_openbao(free_port())
    yield server
    server.stop()


@pytest.fixture
def webhdfs() -> Iterator:
    """A WebHDFS test server (namenode + datanode on two loopback ports) per test."""
    from tests.servers.webhdfs import WebHdfsServer

    with WebHdfsServer() as server:
        yield server


@pytest.fixture(scope="session", autouse=True)
def _prediction_store_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps and processes the tests start without naming a prediction store write to a temporary SQLite file,
    not to data/predictions.sqlite3 in the working directory."""
    name = "PREDICTION_STORE_URL"
    before = os.environ.get(name)
    os.environ[name] = f"sqlite:///{tmp_path_factory.mktemp('prediction-store') / 'predictions.sqlite3'}"
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(scope="session")
def postgres() -> Iterator:
    """A real PostgreSQL server for the session (Debian's binaries; fails loudly when they are missing)."""
    from tests.servers.postgres import start_postgres

    server = start_postgres(free_port())
    yield server
    server.stop()
    server.remove()


@pytest.fixture(scope="module")
def stoppable_postgres() -> Iterator:
    """A PostgreSQL server of one test module's own, for tests that stop it (each must leave it running)."""
    from tests.servers.postgres import start_postgres

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
