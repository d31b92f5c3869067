"""A presented API key -> the caller (key name and role), in step with the key store while the service runs: a
background thread looks at the store every `reload_interval` seconds (a stat of the file, or the Vault secret's
version; read only when it changed), so keys created or revoked with `python -m spam_service keys` take effect
within seconds, without a restart, and a request never waits on the store.

Lookup is by the key's SHA-256 (a dict), confirmed with a constant-time comparison: how long a lookup takes says
nothing about any stored key. Messages name keys by their name only, never by the key."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from spam_service.auth.key_store import KeyStore, KeyStoreError
from spam_service.auth.keys import ApiKey, Role, key_digest
from spam_service.errors import SpamServiceError
from spam_service.supervision import SupervisedThread

_logger = logging.getLogger(__name__)

AUTHENTICATE_HEADER = 'Bearer realm="spam-service"'


class AuthenticationError(SpamServiceError):
    """No key, or a key that is not (or no longer) valid: 401 with WWW-Authenticate."""

    status_code = 401


class PermissionDeniedError(SpamServiceError):
    """A valid key whose role may not do this: 403."""

    status_code = 403


@dataclass(frozen=True, slots=True)
class Caller:
    name: str  # the key's name: what logs, metrics and the prediction store record
    role: Role


class Authenticator:
    def __init__(
        self,
        store: KeyStore,
        *,
        required: Callable[[int], bool],
        reload_interval: float = 2.0,
    ) -> None:
        """`required(number_of_keys)`: whether requests must carry a key, given how many keys the store holds
        (the service's policy: AUTH, and whether it is reachable from other machines)."""
        self.store = store
        self._required = required
        self.reload_interval = reload_interval
        self._by_digest: dict[str, ApiKey] = {}
        self._version: object = None
        self._reload_error: str | None = None
        self._stopping = threading.Event()
        self._reloader = SupervisedThread("api-keys", self._reload_until_stopped)

    def load(self) -> int:
        """Read the store now (start-up: a store that cannot be read stops it). The number of keys."""
        self._version = self.store.version()
        self._by_digest = {key.digest: key for key in self.store.load()}
        return len(self._by_digest)

    def start(self) -> None:
        """Follow the store's changes in the background."""
        self._stopping.clear()
        self._reloader.start()

    def stop(self) -> None:
        self._reloader.stop()
        self._stopping.set()
        self._reloader.join(timeout=5)

    def threads(self) -> list[SupervisedThread]:
        return [self._reloader]

    @property
    def required(self) -> bool:
        return self._required(len(self._by_digest))

    def key_names(self) -> list[str]:
        return sorted(key.name for key in self._by_digest.values())

    def authenticate(self, presented: str | None) -> Caller | None:
        """The caller a key belongs to; None when no key is required and none was sent. No I/O."""
        if not presented:
            if not self.required:
                return None
            raise AuthenticationError(
                "this route needs an API key: send it as 'Authorization: Bearer <key>' (or 'X-API-Key: <key>'); an "
                "operator creates one with `python -m spam_service keys create --role predict --name NAME`"
            )
        digest = key_digest(presented)
        key = self._by_digest.get(digest)
        if key is None or not hmac.compare_digest(key.digest, digest):
            raise AuthenticationError("the API key is not valid (unknown or revoked): ask an operator for a new one")
        if key.expired():
            raise AuthenticationError(
                f"the API key {key.name!r} expired on {key.expires:%Y-%m-%d %H:%M} UTC: ask an operator for a new one"
            )
        return Caller(key.name, key.role)

    def _reload_until_stopped(self) -> None:
        while not self._stopping.wait(self.reload_interval):
            self.reload_if_changed()

    def reload_if_changed(self) -> None:
        try:
            version = self.store.version()
            if version == self._version:
                return
            keys = self.store.load()
        except KeyStoreError as exc:
            if str(exc) != self._reload_error:  # once per cause: the keys loaded last stay in force
                _logger.error("API keys: %s; the keys read before stay in force", exc)
            self._reload_error = str(exc)
            return
        self._reload_error = None
        self._version = version
        before = set(self._by_digest)
        self._by_digest = {key.digest: key for key in keys}  # one assignment: readers see old or new, whole
        _logger.info(
            "API keys reloaded from %s: %d keys (%d added, %d removed)",
            self.store.describe(),
            len(keys),
            len(set(self._by_digest) - before),
            len(before - set(self._by_digest)),
        )
