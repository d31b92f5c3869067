"""The key store in Vault (VAULT_API_KEYS_PATH), against a real OpenBao: an operator writes keys with the CLI and
the operator's token; the service reads them with the least-privilege AppRole the bootstrap made, and follows
changes while running."""

import os
import subprocess
import sys
import time
from pathlib import Path

from spam_service.auth import Authenticator
from spam_service.auth.key_store import VaultKeyStore
from spam_service.vault import AppRoleLogin, VaultSession
from tests.support.servers.openbao import bootstrap

KEYS_PATH = "spam-service-test/api-keys"


def keys_cli(openbao, *args: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if k != "API_KEYS_FILE"},
        "VAULT_ADDR": openbao.addr,
        "VAULT_TOKEN": openbao.root_token,  # the operator's token: it may write
        "VAULT_API_KEYS_PATH": KEYS_PATH,
    }
    return subprocess.run(
        [sys.executable, "-m", "spam_service", "keys", *args], capture_output=True, text=True, env=env, timeout=60
    )


def service_session(openbao, credentials: Path) -> VaultSession:
    login = AppRoleLogin(
        (credentials / "role_id").read_text().strip(), (credentials / "secret_id").read_text().strip(), "approle"
    )
    session = VaultSession(openbao.addr, login)
    session.authenticate()
    return session


def test_keys_written_to_vault_by_an_operator_are_read_by_the_service_and_followed_while_it_runs(openbao, tmp_path):
    result = bootstrap(
        openbao, tmp_path / "creds", "--host", "namenode", "--port", "9870",
        VAULT_ROLE_NAME="keys-test", VAULT_POLICY_NAME="keys-test", VAULT_HDFS_SECRET_PATH="keys-test/hdfs",
        VAULT_API_KEYS_PATH=KEYS_PATH,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    first = keys_cli(openbao, "create", "--role", "admin", "--name", "ops")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    authenticator = Authenticator(
        VaultKeyStore(service_session(openbao, tmp_path / "creds"), "secret", KEYS_PATH),
        required=lambda keys: True,
        reload_interval=0.2,
    )
    assert authenticator.load() == 2  # the bootstrap's first admin key, and the operator's
    caller = authenticator.authenticate(key)
    assert caller is not None and (caller.name, caller.role) == ("ops", "admin")
    authenticator.start()
    try:
        added = keys_cli(openbao, "create", "--role", "predict", "--name", "app").stdout.strip()
        deadline = time.monotonic() + 10
        while authenticator.key_names() != ["app", "bootstrap-admin", "ops"]:
            assert time.monotonic() < deadline, "a key written to Vault was not picked up"
            time.sleep(0.1)
        assert authenticator.authenticate(added).role == "predict"
        assert keys_cli(openbao, "revoke", "ops").returncode == 0
        while authenticator.key_names() != ["app", "bootstrap-admin"]:
            assert time.monotonic() < deadline + 10, "a key revoked in Vault kept working"
            time.sleep(0.1)
    finally:
        authenticator.stop()
    listed = keys_cli(openbao, "list").stdout
    assert listed.startswith("app\tpredict\t") and "bootstrap-admin\tadmin" in listed and key not in listed


def test_the_bootstrap_provisions_a_first_admin_key_once(openbao, tmp_path):
    names = {"VAULT_ROLE_NAME": "boot", "VAULT_POLICY_NAME": "boot", "VAULT_HDFS_SECRET_PATH": "boot/hdfs"}
    path = "spam-service-test/bootstrapped-keys"
    result = bootstrap(openbao, tmp_path / "creds", "--host", "nn", "--port", "9870", VAULT_API_KEYS_PATH=path, **names)
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "creds" / "admin.key").read_text().strip()
    assert key not in result.stdout + result.stderr
    store = VaultKeyStore(service_session(openbao, tmp_path / "creds"), "secret", path)
    authenticator = Authenticator(store, required=lambda keys: True)
    assert authenticator.load() == 1
    assert authenticator.authenticate(key).name == "bootstrap-admin"
    again = bootstrap(openbao, tmp_path / "creds", "--host", "nn", "--port", "9870", VAULT_API_KEYS_PATH=path, **names)
    assert again.returncode == 0 and "kept the API key store" in again.stdout
    assert (tmp_path / "creds" / "admin.key").read_text().strip() == key


def test_the_services_approle_may_read_the_keys_but_not_write_them(openbao, tmp_path):
    from spam_service.auth import KeyStoreError

    result = bootstrap(
        openbao, tmp_path / "creds", "--host", "namenode", "--port", "9870",
        VAULT_ROLE_NAME="keys-ro", VAULT_POLICY_NAME="keys-ro", VAULT_HDFS_SECRET_PATH="keys-ro/hdfs",
        VAULT_API_KEYS_PATH=KEYS_PATH,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    store = VaultKeyStore(service_session(openbao, tmp_path / "creds"), "secret", KEYS_PATH)
    store.load()
    try:
        store.save([])
    except KeyStoreError as refused:
        assert "may not write" in str(refused) and openbao.root_token not in str(refused)
    else:
        raise AssertionError("the service's AppRole could write its own keys")
