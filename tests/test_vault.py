"""Vault against a real OpenBao dev server: the vault/ bootstrap, AppRole and token logins, every start-up failure
with its one-line message, no secret in any message, and the token kept alive past its TTL."""

import os
import secrets
import stat
import subprocess
import sys
import time

import hvac
import pytest

from spam_service.errors import StartupError
from spam_service.request_log.webhdfs import HdfsLocation
from spam_service.runtime import locate_hdfs
from spam_service.settings import Settings
from spam_service.vault import VaultError, VaultSession
from tests.support.live_server import free_port
from tests.support.servers.openbao import bootstrap


@pytest.fixture
def role(openbao, tmp_path):
    """A fresh role, policy and secret path per test, bootstrapped; their names and credential files."""
    name = f"svc-{secrets.token_hex(3)}"
    names = {"VAULT_ROLE_NAME": name, "VAULT_POLICY_NAME": name, "VAULT_HDFS_SECRET_PATH": f"{name}/hdfs"}
    result = bootstrap(openbao, tmp_path / "creds", "--host", "namenode", "--port", "9870", "--user", "hadoop", **names)
    assert result.returncode == 0, result.stderr
    return {**names, "credentials": tmp_path / "creds", "output": result.stdout + result.stderr}


def approle_settings(openbao, role, **overrides) -> Settings:
    values = {
        "vault_addr": openbao.addr,
        "vault_role_id_file": role["credentials"] / "role_id",
        "vault_secret_id_file": role["credentials"] / "secret_id",
        "vault_hdfs_secret_path": role["VAULT_HDFS_SECRET_PATH"],
        **overrides,
    }
    return Settings(_env_file=None, **values)


def read_location(settings: Settings) -> HdfsLocation | None:
    location, _ = locate_hdfs(settings)
    return location


def admin(openbao) -> hvac.Client:
    return hvac.Client(url=openbao.addr, token=openbao.root_token)


def test_bootstrap_is_idempotent_and_writes_private_credential_files(openbao, role):
    first_secret_id = (role["credentials"] / "secret_id").read_text()
    again = bootstrap(
        openbao,
        role["credentials"],
        "--host",
        "namenode",
        "--port",
        "9870",
        **{k: v for k, v in role.items() if k.startswith("VAULT_")},
    )
    assert again.returncode == 0, again.stderr
    assert "kept the existing secret_id" in again.stdout
    assert (role["credentials"] / "secret_id").read_text() == first_secret_id
    for name in ("role_id", "secret_id"):
        path = role["credentials"] / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text().strip() not in role["output"] + again.stdout + again.stderr
    policy = admin(openbao).sys.read_policy(role["VAULT_POLICY_NAME"])["data"]["rules"]
    assert f'path "secret/data/{role["VAULT_HDFS_SECRET_PATH"]}"' in policy and '["read"]' in policy


def test_bootstrap_reissues_a_secret_id_that_vault_no_longer_knows(openbao, role):
    (role["credentials"] / "secret_id").write_text("00000000-0000-0000-0000-000000000000")
    again = bootstrap(
        openbao,
        role["credentials"],
        "--host",
        "nn",
        "--port",
        "9870",
        **{k: v for k, v in role.items() if k.startswith("VAULT_")},
    )
    assert again.returncode == 0 and "issued a secret_id" in again.stdout
    assert read_location(approle_settings(openbao, role)).host == "nn"


def test_bootstrap_refuses_a_port_that_is_not_a_number(openbao, tmp_path):
    result = bootstrap(openbao, tmp_path, "--host", "nn", "--port", "http")
    assert result.returncode == 1 and "--port must be a number" in result.stderr


def test_approle_login_from_files_reads_host_port_and_user(openbao, role):
    assert read_location(approle_settings(openbao, role)) == HdfsLocation("namenode", 9870, "hadoop")


def test_approle_login_from_values_and_token_login_work_too(openbao, role):
    role_id = (role["credentials"] / "role_id").read_text().strip()
    secret_id = (role["credentials"] / "secret_id").read_text().strip()
    by_value = approle_settings(
        openbao,
        role,
        vault_role_id_file=None,
        vault_secret_id_file=None,
        vault_role_id=role_id,
        vault_secret_id=secret_id,
    )
    assert read_location(by_value).port == 9870
    by_token = Settings(
        _env_file=None,
        vault_addr=openbao.addr,
        vault_token=openbao.root_token,
        vault_hdfs_secret_path=role["VAULT_HDFS_SECRET_PATH"],
    )
    assert read_location(by_token).host == "namenode"


def test_the_policy_reads_that_secret_and_nothing_else(openbao, role):
    admin(openbao).secrets.kv.v2.create_or_update_secret(path="other/thing", secret={"password": "x"})
    with pytest.raises(VaultError, match=r"may not read secret/data/other/thing"):
        read_location(approle_settings(openbao, role, vault_hdfs_secret_path="other/thing"))


def test_a_wrong_secret_id_is_denied_without_echoing_it(openbao, role, tmp_path):
    wrong = tmp_path / "wrong_secret_id"
    wrong.write_text("11111111-2222-3333-4444-555555555555")
    with pytest.raises(VaultError, match=r"refused the AppRole login: check VAULT_ROLE_ID / VAULT_SECRET_ID") as caught:
        read_location(approle_settings(openbao, role, vault_secret_id_file=wrong))
    assert "1111" not in str(caught.value)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, r"no secret at secret/.*write it with vault/bootstrap\.sh"),
        ({"host": "nn"}, r"lacks 'port' \(keys present: host\)"),
        ({"port": "9870", "user": "u"}, r"lacks 'host'"),
        ({"host": "nn", "port": "ninety"}, r"'port' is not a port number"),
        ({"host": "nn", "port": "70000"}, r"'port' is not a port number"),
    ],
    ids=["missing-secret", "missing-port", "missing-host", "port-not-a-number", "port-out-of-range"],
)
def test_a_missing_or_malformed_secret_is_named(openbao, secret, message):
    path = f"t-{secrets.token_hex(3)}/hdfs"
    if secret is not None:
        admin(openbao).secrets.kv.v2.create_or_update_secret(path=path, secret=secret)
    settings = Settings(
        _env_file=None, vault_addr=openbao.addr, vault_token=openbao.root_token, vault_hdfs_secret_path=path
    )
    with pytest.raises(StartupError, match=message) as caught:
        read_location(settings)
    assert "ninety" not in str(caught.value)


def test_an_unreachable_vault_is_named(tmp_path):
    settings = Settings(_env_file=None, vault_addr=f"http://127.0.0.1:{free_port()}", vault_token="t")
    with pytest.raises(VaultError, match=r"is unreachable .*check VAULT_ADDR"):
        read_location(settings)


def test_the_token_is_kept_alive_past_its_ttl_and_max_ttl(openbao, tmp_path):
    name = f"short-{secrets.token_hex(3)}"
    names = {"VAULT_ROLE_NAME": name, "VAULT_POLICY_NAME": name, "VAULT_HDFS_SECRET_PATH": f"{name}/hdfs"}
    result = bootstrap(
        openbao, tmp_path, "--host", "nn", "--port", "1", VAULT_TOKEN_TTL="2s", VAULT_TOKEN_MAX_TTL="4s", **names
    )
    assert result.returncode == 0, result.stderr
    settings = approle_settings(openbao, {**names, "credentials": tmp_path})
    session = VaultSession.from_settings(settings)
    session.authenticate()
    session.start_renewal()
    try:
        time.sleep(6)  # three TTLs, past the max TTL: only renewals and a new login keep the session usable
        assert session.read_secret("secret", names["VAULT_HDFS_SECRET_PATH"])["host"] == "nn"
        assert session.status()["last_error"] is None and session.status()["last_renewal"] is not None
    finally:
        session.stop()


@pytest.mark.parametrize("problem", ["unreachable", "denied", "missing-secret", "malformed-hdfs-location"])
def test_service_start_up_fails_within_30_s_with_one_line_and_no_secret(openbao, role, tmp_path, problem):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))},
        "HF_HUB_OFFLINE": "1",
        "VAULT_ADDR": openbao.addr,
        "VAULT_ROLE_ID_FILE": str(role["credentials"] / "role_id"),
        "VAULT_SECRET_ID_FILE": str(role["credentials"] / "secret_id"),
        "VAULT_HDFS_SECRET_PATH": role["VAULT_HDFS_SECRET_PATH"],
        "REQUEST_LOG_DIR": str(tmp_path / "logs"),
    }
    expected = {
        "unreachable": "is unreachable",
        "denied": "refused the AppRole login",
        "missing-secret": "may not read secret/data/nowhere/hdfs",  # least privilege: missing looks like denied
        "malformed-hdfs-location": "'port' is not a port number",
    }[problem]
    if problem == "unreachable":
        env["VAULT_ADDR"] = f"http://127.0.0.1:{free_port()}"
    elif problem == "denied":
        wrong = tmp_path / "secret_id"
        wrong.write_text("99999999-8888-7777-6666-555555555555")
        env["VAULT_SECRET_ID_FILE"] = str(wrong)
    elif problem == "missing-secret":
        env["VAULT_HDFS_SECRET_PATH"] = "nowhere/hdfs"
    else:
        admin(openbao).secrets.kv.v2.create_or_update_secret(
            path=role["VAULT_HDFS_SECRET_PATH"], secret={"host": "namenode", "port": "ninety"}
        )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "spam_service"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    output = result.stdout + result.stderr
    for name in ("role_id", "secret_id"):
        assert (role["credentials"] / name).read_text().strip() not in output
    assert "9999" not in output and "ninety" not in output
