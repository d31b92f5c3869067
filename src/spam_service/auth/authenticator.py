"""A presented API key -> the caller (key name and role), in step with the key store while the service runs: the
store is looked at again at most every `reload_interval` seconds (a stat; read only when it changed), so keys
created or revoked with `python -m spam_service keys` take effect within seconds, without a restart.

Lookup is by the key's SHA-256 (a dict), confirmed with a constant-time comparison: how long a lookup takes says
nothing about any stored key. Messages name keys by their name only, never by the key."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spam_service.auth.key_store import JsonFileKeyStore, KeyStoreError
from spam_service.auth.keys import ApiKey, Role, key_digest
from spam_service.errors import SpamServiceError

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
        store: JsonFileKeyStore,
        *,
        required: Callable[[int], bool],
        reload_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`required(number_of_keys)`: whether requests must carry a key, given how many keys the store holds
        (the service's policy: AUTH, and whether it is reachable from other machines)."""
        self.store = store
        self._required = required
        self.reload_interval = reload_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._by_digest: dict[str, ApiKey] = {}
        self._version: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._reload_error: str | None = None

    def load(self) -> int:
        """Read the store now (start-up: a store that cannot be read stops it). The number of keys."""
        self._version = self.store.version()
        self._by_digest = {key.digest: key for key in self.store.load()}
        self._checked_at = self._clock()
        return len(self._by_digest)

    @property
    def required(self) -> bool:
        return self._required(len(self._by_digest))

    def key_names(self) -> list[str]:
        return sorted(key.name for key in self._by_digest.values())

    def authenticate(self, presented: str | None) -> Caller | None:
        """The caller a key belongs to; None when no key is required and none was sent."""
        self._reload_if_changed()
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

    def _reload_if_changed(self) -> None:
        now = self._clock()
        if now - self._checked_at < self.reload_interval:
            return
        with self._lock:
            if now - self._checked_at < self.reload_interval:
                return
            self._checked_at = now
            version = self.store.version()
            if version == self._version:
                return
            try:
                keys = self.store.load()
            except KeyStoreError as exc:
                if str(exc) != self._reload_error:  # once per cause: the keys loaded last stay in force
                    _logger.error("API keys: %s; the keys read before stay in force", exc)
                self._reload_error = str(exc)
                return
            self._reload_error = None
            self._version = version
            before = set(self._by_digest)
            self._by_digest = {key.digest: key for key in keys}
            _logger.info(
                "API keys reloaded from %s: %d keys (%d added, %d removed)",
                self.store.describe(),
                len(keys),
                len(set(self._by_digest) - before),
                len(before - set(self._by_digest)),
            )
