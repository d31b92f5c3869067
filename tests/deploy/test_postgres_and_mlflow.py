"""The compose stack's PostgreSQL and MLflow server, run for real: a PostgreSQL server of the tests (Debian's
binaries), given the databases by deploy/postgres/init-databases.sh with the passwords scripts/compose_secrets.sh
generates, then the prediction store and `mlflow server` connecting with the URLs and arguments of
docker-compose.yml (host and port pointed at the test server) and the password files secrets-init writes."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import URL, make_url

from spam_service.prediction_store.database import Database
from tests.support import REPO_ROOT
from tests.support.live_server import free_port
from tests.support.servers.postgres import PostgresServer, start_postgres

INIT_SCRIPT = REPO_ROOT / "deploy" / "postgres" / "init-databases.sh"
SECRETS_SCRIPT = REPO_ROOT / "scripts" / "compose_secrets.sh"


# The script's directories as secrets-init has them (its defaults, the paths docker-compose.yml mounts volumes on).
SECRETS_INIT_DIRS = {
    "TLS_DIR": "/secrets/tls",
    "CA_DIR": "/secrets/ca",
    "GRAFANA_DIR": "/secrets/grafana",
    "KEYS_DIR": "/secrets/api-keys",
    "ADMIN_KEY_DIR": "/secrets/admin-key",
    "POSTGRES_DIR": "/secrets/postgres",
    "MLFLOW_DB_DIR": "/secrets/mlflow-db",
    "SERVICE_DB_DIR": "/secrets/service-db",
}


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What secrets-init generates at the stack's first start, its /secrets/... directories under this root."""
    root = tmp_path_factory.mktemp("compose-secrets")
    environment = {name: str(root / path.lstrip("/")) for name, path in SECRETS_INIT_DIRS.items()}
    subprocess.run(
        ["sh", str(SECRETS_SCRIPT), "generate"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", **environment},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return root


@pytest.fixture(scope="module")
def server(secrets: Path, compose: dict) -> Iterator[PostgresServer]:
    """A PostgreSQL server of this module's own, set up by the init script as the image runs it at first start."""
    server = start_postgres(free_port())
    try:
        # The image runs the script as its superuser over the socket; here the superuser's password reaches psql
        # as the tests' server's own, through the environment of this one process.
        environment = {
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(server.port),
            "PGPASSWORD": server.password,
            "POSTGRES_USER": server.user,
            "POSTGRES_SECRETS_DIR": str(volume_in_secrets(compose, secrets, "postgres", "POSTGRES_SECRETS_DIR")),
        }
        done = subprocess.run(["sh", str(INIT_SCRIPT)], env=environment, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert server.password not in done.stdout + done.stderr
        yield server
    finally:
        server.stop()
        server.remove()


def volume_in_secrets(compose: dict, secrets: Path, service: str, variable: str) -> Path:
    """Where, under `secrets`, lies the directory that the path in `service`'s environment `variable` names: the
    volume mounted there in `service`, as secrets-init mounts and fills it."""
    wanted = Path(compose["services"][service]["environment"][variable])
    mounts = [volume.split(":") for volume in compose["services"][service]["volumes"]]
    [name] = [m[0] for m in mounts if wanted == Path(m[1]) or Path(m[1]) in wanted.parents]
    [mount] = [m[1] for m in mounts if m[0] == name]
    [init_path] = [v.split(":")[1] for v in compose["services"]["secrets-init"]["volumes"] if v.split(":")[0] == name]
    return secrets / init_path.lstrip("/") / wanted.relative_to(mount)


def at_test_server(url: str, server: PostgresServer) -> URL:
    """A compose URL with the tests' server as its host: the rest (driver, role, database, no password) unchanged."""
    parsed = make_url(url)
    assert (parsed.host, parsed.port) == ("postgres", 5432)  # the compose service's name and PostgreSQL's port
    return parsed.set(host="127.0.0.1", port=server.port)


def mlflow_argument(command: list[str], name: str) -> str:
    [value] = [a.split("=", 1)[1] for a in command if a.startswith(f"{name}=")]
    return value


def test_the_service_writes_its_prediction_store_as_spam_service_with_the_compose_url_and_its_password_file(
    server, secrets, compose, monkeypatch
):
    service = compose["services"]["spam-service"]
    url = at_test_server(service["environment"]["PREDICTION_STORE_URL"], server)
    assert url.password is None  # the password comes from the file only
    monkeypatch.setenv("PGPASSFILE", str(volume_in_secrets(compose, secrets, "spam-service", "PGPASSFILE")))
    database = Database(url)
    database.open()
    try:
        database.migrate()  # creates its tables: the role owns the database
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT current_user, current_database()").one() == (
                "spam_service",
                "predictions",
            )
            assert connection.exec_driver_sql("SELECT to_regclass('predictions') IS NOT NULL").scalar()
    finally:
        database.dispose()


def test_each_role_may_connect_to_its_own_database_only(server, secrets):
    passwords = secrets / "secrets" / "postgres"
    for role, own, other in (("spam_service", "predictions", "mlflow"), ("mlflow", "mlflow", "predictions")):
        password = (passwords / f"{role}_password").read_text()
        login = {"host": "127.0.0.1", "port": server.port, "user": role, "password": password}
        with psycopg.connect(**login, dbname=own) as connection:
            assert connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (
                False,
            )
        with pytest.raises(psycopg.OperationalError, match=f'permission denied for database "{other}"'):
            psycopg.connect(**login, dbname=other)


@dataclass(frozen=True)
class MlflowServer:
    url: str
    artifacts: Path  # its --artifacts-destination


@pytest.fixture(scope="module")
def mlflow_server(server, secrets, compose, tmp_path_factory) -> Iterator[MlflowServer]:
    """`mlflow server` with docker-compose.yml's arguments and PGPASSFILE; on loopback, at a free port, one worker."""
    service = compose["services"]["mlflow"]
    command = list(service["command"])
    assert command[:2] == ["mlflow", "server"]
    port = free_port()
    artifacts = tmp_path_factory.mktemp("mlartifacts")
    backend = at_test_server(mlflow_argument(command, "--backend-store-uri"), server)
    replaced = {
        "--host": "127.0.0.1",
        "--port": str(port),
        "--workers": "1",
        "--backend-store-uri": backend.render_as_string(hide_password=False),
        "--artifacts-destination": str(artifacts),
    }
    arguments = [
        f"{a.split('=', 1)[0]}={replaced[a.split('=', 1)[0]]}" if a.split("=", 1)[0] in replaced else a
        for a in command[2:]
    ]
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PG"))},
        "PGPASSFILE": str(volume_in_secrets(compose, secrets, "mlflow", "PGPASSFILE")),
    }
    log = tmp_path_factory.mktemp("mlflow-log") / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", *arguments],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers in its own process group, stopped with it
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"mlflow server not healthy in 120 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield MlflowServer(url, artifacts)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        shutil.rmtree(artifacts, ignore_errors=True)


def test_mlflow_keeps_its_runs_in_the_mlflow_database_as_role_mlflow(mlflow_server, server):
    with psycopg.connect(
        host="127.0.0.1", port=server.port, user=server.user, password=server.password, dbname="mlflow"
    ) as connection:
        owners = {row[0] for row in connection.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
        tables = {row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {"mlflow"} and {"experiments", "runs", "registered_models", "model_versions"} <= tables


def test_mlflow_answers_the_name_the_service_uses_and_refuses_other_host_headers(mlflow_server, compose):
    tracking = httpx.URL(compose["services"]["spam-service"]["environment"]["MLFLOW_TRACKING_URI"])
    assert tracking.port == int(mlflow_argument(compose["services"]["mlflow"]["command"], "--port"))
    search = f"{mlflow_server.url}/api/2.0/mlflow/registered-models/search"
    # httpx sends the Host header the service's client sends for MLFLOW_TRACKING_URI (name:port).
    answer = httpx.get(search, headers={"Host": f"{tracking.host}:{tracking.port}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    # MLflow's DNS-rebinding guard is on: a name not in --allowed-hosts is refused.
    assert httpx.get(search, headers={"Host": "attacker.example:5000"}, timeout=10).status_code == 403


def test_a_registered_version_is_fetched_through_the_server_by_alias(mlflow_server, tmp_path, monkeypatch):
    """The lifecycle's path: a run's files uploaded through --serve-artifacts, registered, aliased champion, then
    downloaded by models:/ URI with the tracking server's URL alone (as the service has it: MLFLOW_TRACKING_URI)."""
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    # models:/ resolution reads the registry from the environment, not download_artifacts' arguments.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    client = MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)
    name = f"spam-classifier-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    assert client.get_experiment(experiment_id).artifact_location.startswith("mlflow-artifacts:")
    run = client.create_run(experiment_id)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "labels.json").write_text('["ham", "spam"]')
    client.log_artifacts(run.info.run_id, str(model_dir), artifact_path="model")
    client.set_terminated(run.info.run_id)
    client.create_registered_model(name)
    version = client.create_model_version(name, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(name, "champion", version.version)

    fetched = download_artifacts(artifact_uri=f"models:/{name}@champion", dst_path=str(tmp_path / "fetched"))
    assert (Path(fetched) / "labels.json").read_text() == '["ham", "spam"]'
    # Stored by the server in its artifacts volume, not by the client.
    [stored] = mlflow_server.artifacts.rglob("labels.json")
    assert stored.read_text() == '["ham", "spam"]'
