"""When keys are required (runtime.build_authenticator): never open to other machines by default."""

from datetime import UTC, datetime

import pytest

from spam_service.auth import ApiKey, JsonFileKeyStore
from spam_service.auth.keys import key_digest, new_key
from spam_service.errors import StartupError
from spam_service.runtime import build_authenticator
from spam_service.settings import Settings


def settings(tmp_path, **values) -> Settings:
    return Settings(api_keys_file=tmp_path / "api-keys.json", **values)


def with_one_key(tmp_path) -> None:
    key = ApiKey("ops", "admin", key_digest(new_key()), datetime.now(UTC))
    JsonFileKeyStore(tmp_path / "api-keys.json").save([key])


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_no_keys_on_loopback_is_open_for_local_development(tmp_path, host):
    assert build_authenticator(settings(tmp_path, host=host)).authenticate(None) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "spam.example.org"])
def test_no_keys_reachable_from_other_machines_refuses_to_start(tmp_path, host):
    with pytest.raises(StartupError, match=r"no API keys in .* reachable from other machines.*keys create"):
        build_authenticator(settings(tmp_path, host=host))


def test_auth_off_is_open_anywhere_and_auth_on_needs_a_key_even_on_loopback(tmp_path):
    assert build_authenticator(settings(tmp_path, host="0.0.0.0", auth="off")).authenticate(None) is None
    assert build_authenticator(settings(tmp_path, auth="on")).required


def test_keys_in_the_store_are_required_on_loopback_too(tmp_path):
    with_one_key(tmp_path)
    assert build_authenticator(settings(tmp_path)).required
    assert build_authenticator(settings(tmp_path, host="0.0.0.0")).required


def test_a_store_that_is_no_key_store_stops_start_up_with_one_line(tmp_path):
    (tmp_path / "api-keys.json").write_text("{")
    with pytest.raises(StartupError, match=r"is not a key store.*API_KEYS_FILE"):
        build_authenticator(settings(tmp_path))
