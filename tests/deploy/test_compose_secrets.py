"""What the compose stack generates at its first start instead of asking for it (secrets-init,
scripts/compose_secrets.sh): no variable required, HTTPS on by default with a certificate its CA verifies for the
names clients use, Grafana's password from a file. The script runs here for real with this machine's openssl."""

import re
import shutil
import socket
import ssl
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from spam_service.api.server import STRICT_TRANSPORT_SECURITY, check_tls_files
from spam_service.settings import Settings
from tests.support import REPO_ROOT
from tests.support.live_server import start_live_server

SCRIPT = REPO_ROOT / "scripts" / "compose_secrets.sh"


def test_no_variable_is_required_by_the_compose_file():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert not re.findall(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?\?", text), "a required variable: generate its value instead"


def test_the_service_serves_https_from_the_generated_volume_by_default(compose):
    service, init = compose["services"]["spam-service"], compose["services"]["secrets-init"]
    environment = service["environment"]
    assert environment["TLS_CERT_FILE"] == "/run/tls/tls.crt" and environment["TLS_KEY_FILE"] == "/run/tls/tls.key"
    assert "tls:/run/tls:ro" in service["volumes"] and "tls:/secrets/tls" in init["volumes"]
    assert init["environment"]["TLS_OWNER"].startswith("10001:")  # the image's non-root uid reads the key
    # The CA's key stays in a volume of secrets-init's alone.
    [ca_volume] = [v.split(":")[0] for v in init["volumes"] if v.endswith(":/secrets/ca")]
    others = [v for name, s in compose["services"].items() if name != "secrets-init" for v in s.get("volumes", [])]
    assert not [v for v in others if v.split(":")[0] == ca_volume]


def test_the_healthcheck_uses_https_and_verifies_with_the_stacks_ca(compose):
    test = " ".join(compose["services"]["spam-service"]["healthcheck"]["test"])
    assert "https://127.0.0.1:8000/ready" in test and "cafile='/run/tls/ca.crt'" in test
    assert "http://" not in test


def test_the_service_reads_the_key_store_and_prometheus_the_admin_key_that_secrets_init_made(compose):
    service, prometheus = compose["services"]["spam-service"], compose["services"]["prometheus"]
    assert service["environment"]["API_KEYS_FILE"] == "/run/api-keys/api-keys.json"
    assert "api-keys:/run/api-keys" in service["volumes"]
    assert "admin-key:/etc/prometheus/admin-key:ro" in prometheus["volumes"]
    assert not [v for v in service["volumes"] if v.startswith("admin-key:")]  # the key itself: Prometheus only
    scrape = (REPO_ROOT / "monitoring" / "prometheus" / "prometheus.yml").read_text()
    assert "credentials_file: /etc/prometheus/admin-key/admin.key" in scrape


def test_the_generated_admin_key_is_one_the_service_accepts_as_admin(generated):
    from spam_service.auth import Authenticator, JsonFileKeyStore

    key = run_script(generated, "admin-key").stdout.strip()
    assert mode(generated / "admin-key" / "admin.key") == 0o400
    assert mode(generated / "api-keys" / "api-keys.json") == 0o600
    assert key not in (generated / "api-keys" / "api-keys.json").read_text()
    authenticator = Authenticator(JsonFileKeyStore(generated / "api-keys" / "api-keys.json"), required=lambda n: True)
    assert authenticator.load() == 1
    caller = authenticator.authenticate(key)
    assert caller is not None and (caller.name, caller.role) == ("compose-admin", "admin")
    run_script(generated, "generate")  # a later start keeps the key
    assert run_script(generated, "admin-key").stdout.strip() == key


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    assert shutil.which("openssl"), "openssl is not installed (the stack's secrets-init image has it)"
    run_script(tmp_path, "generate")
    return tmp_path


def run_script(root: Path, command: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        "TLS_DIR": str(root / "tls"),
        "CA_DIR": str(root / "ca"),
        "GRAFANA_DIR": str(root / "grafana"),
        "KEYS_DIR": str(root / "api-keys"),
        "ADMIN_KEY_DIR": str(root / "admin-key"),
        "POSTGRES_DIR": str(root / "postgres"),
        "MLFLOW_DB_DIR": str(root / "mlflow-db"),
        "SERVICE_DB_DIR": str(root / "service-db"),
    }
    result = subprocess.run(
        ["sh", str(SCRIPT), command], env=environment, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_script_generates_keys_and_password_readable_by_their_owner_only(generated):
    assert mode(generated / "tls" / "tls.key") == 0o400 and mode(generated / "ca" / "ca.key") == 0o400
    assert mode(generated / "tls" / "tls.crt") == 0o644 and mode(generated / "tls" / "ca.crt") == 0o644
    password = (generated / "grafana" / "admin_password").read_text()
    assert re.fullmatch(r"[0-9a-f]{48}", password)  # no newline: Grafana would take it as part of the password
    assert mode(generated / "grafana" / "admin_password") == 0o400
    assert not list((generated / "tls").glob(".new.*"))


def test_later_starts_keep_what_the_first_generated_and_show_prints_it(generated):
    before = {path: path.read_bytes() for path in generated.rglob("*") if path.is_file()}
    second = run_script(generated, "generate")
    assert {path: path.read_bytes() for path in generated.rglob("*") if path.is_file()} == before
    assert second.stdout == ""  # nothing generated, nothing said
    password = (generated / "grafana" / "admin_password").read_text()
    assert run_script(generated, "show").stdout == password + "\n"
    assert run_script(generated, "ca").stdout == (generated / "tls" / "ca.crt").read_text()


def test_generate_prints_no_secret(tmp_path):
    output = run_script(tmp_path, "generate")
    password = (tmp_path / "grafana" / "admin_password").read_text()
    assert password not in output.stdout + output.stderr
    assert "PRIVATE KEY" not in output.stdout + output.stderr
    for database_password in (tmp_path / "postgres").iterdir():
        assert database_password.read_text() not in output.stdout + output.stderr


def test_each_database_client_gets_a_password_file_with_its_own_role_only(generated):
    passwords = {path.name: path.read_text() for path in (generated / "postgres").iterdir()}
    assert set(passwords) == {"superuser_password", "mlflow_password", "spam_service_password"}
    assert len(set(passwords.values())) == 3 and all(re.fullmatch(r"[0-9a-f]{48}", p) for p in passwords.values())
    assert all(mode(generated / "postgres" / name) == 0o400 for name in passwords)
    # libpq ignores a password file that its group or others may read: 0400 passes, and only its owner reads it.
    mlflow, service = generated / "mlflow-db" / "pgpass", generated / "service-db" / "pgpass"
    assert mode(mlflow) == 0o400 and mode(service) == 0o400
    assert mlflow.read_text() == f"*:*:mlflow:mlflow:{passwords['mlflow_password']}\n"
    assert service.read_text() == f"*:*:predictions:spam_service:{passwords['spam_service_password']}\n"


def test_the_database_secrets_go_to_the_uids_of_the_images_that_read_them(compose):
    owners = compose["services"]["secrets-init"]["environment"]
    assert compose["services"]["postgres"]["image"].endswith("-alpine") and owners["POSTGRES_OWNER"] == "70:70"
    mlflow_user = re.search(r"^USER (\d+)", (REPO_ROOT / "deploy" / "mlflow" / "Dockerfile").read_text(), re.M)
    assert mlflow_user and owners["MLFLOW_DB_OWNER"].startswith(mlflow_user.group(1) + ":")
    assert owners["SERVICE_DB_OWNER"].startswith("10001:")  # the service image's uid


def test_the_generated_certificate_is_verified_by_the_ca_for_every_name_clients_use(generated, make_app):
    settings = Settings(tls_cert_file=generated / "tls" / "tls.crt", tls_key_file=generated / "tls" / "tls.key")
    check_tls_files(settings)  # the service accepts the pair
    client_context = ssl.create_default_context(cafile=str(generated / "tls" / "ca.crt"))
    app, _ = make_app(tls_cert_file=settings.tls_cert_file, tls_key_file=settings.tls_key_file)
    live = start_live_server(app, verify=client_context)
    try:
        # The healthcheck's and the published port's name (127.0.0.1), then the one Prometheus verifies.
        response = httpx.get(f"{live.url}/ready", verify=client_context)
        assert response.status_code == 200
        assert response.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
        port = int(live.url.rsplit(":", 1)[1])
        for name in ("spam-service", "localhost"):
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                client_context.wrap_socket(raw, server_hostname=name) as tls,
            ):
                assert tls.version() in {"TLSv1.2", "TLSv1.3"}
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            client_context.wrap_socket(raw, server_hostname="not-the-service")
    finally:
        live.stop()
