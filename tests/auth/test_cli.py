"""`python -m spam_service keys`: the key is printed once and stored only as a hash, in a file only its owner reads."""

import json
import os
import stat
import subprocess
import sys

from spam_service.auth.keys import KEY_PREFIX, key_digest


def keys(store, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "API_KEYS_FILE"}
    return subprocess.run(
        [sys.executable, "-m", "spam_service", "keys", "--file", str(store), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_create_prints_only_the_key_and_stores_only_its_hash(tmp_path):
    store = tmp_path / "keys" / "api-keys.json"
    created = keys(store, "create", "--role", "predict", "--name", "billing-app", "--expires-days", "30")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n" and key.startswith(KEY_PREFIX) and len(key) >= len(KEY_PREFIX) + 22
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    text = store.read_text()
    assert key not in text and key_digest(key) in text
    [entry] = json.loads(text)["keys"]
    assert entry["name"] == "billing-app" and entry["role"] == "predict" and entry["expires"]
    second = keys(store, "create", "--role", "admin", "--name", "ops").stdout.strip()
    assert second != key


def test_list_shows_names_roles_and_dates_never_keys_and_revoke_removes(tmp_path):
    store = tmp_path / "api-keys.json"
    key = keys(store, "create", "--role", "feedback", "--name", "reviewer").stdout.strip()
    listed = keys(store, "list")
    assert listed.returncode == 0 and listed.stdout.startswith("reviewer\tfeedback\tcreated ")
    assert key not in listed.stdout and key_digest(key) not in listed.stdout
    assert keys(store, "revoke", "reviewer").returncode == 0
    assert keys(store, "list").stdout == ""


def test_mistakes_are_refused_with_a_message(tmp_path):
    store = tmp_path / "api-keys.json"
    keys(store, "create", "--role", "admin", "--name", "ops")
    duplicate = keys(store, "create", "--role", "admin", "--name", "ops")
    assert duplicate.returncode == 2 and "a key named 'ops' exists" in duplicate.stderr
    assert keys(store, "create", "--role", "root", "--name", "x").returncode == 2
    bad_name = keys(store, "create", "--role", "admin", "--name", "has space")
    assert bad_name.returncode == 2 and "must be 1-64 letters" in bad_name.stderr
    unknown = keys(store, "revoke", "nobody")
    assert unknown.returncode == 2 and "no key named 'nobody'" in unknown.stderr
    store.write_text("not json")
    broken = keys(store, "list")
    assert broken.returncode == 1 and "is not a key store" in broken.stderr


def test_an_argument_that_is_no_command_never_starts_the_server(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "spam_service", "serve-please"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "usage: python -m spam_service" in result.stderr
