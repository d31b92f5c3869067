"""Where API keys live: a JSON file (API_KEYS_FILE), written atomically with mode 0600, or a KV v2 secret in Vault
(VAULT_API_KEYS_PATH). Either holds names, roles, dates and the SHA-256 of each key, never a key."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

from spam_service.auth.keys import ApiKey
from spam_service.errors import SpamServiceError

if TYPE_CHECKING:
    from spam_service.vault import VaultSession

T = TypeVar("T")


class KeyStoreError(SpamServiceError):
    """The key store cannot be read or written; the message says which file and why."""


class KeyStore(Protocol):
    def describe(self) -> str: ...

    def version(self) -> object:
        """Anything that changes when the keys change (compared to decide whether to load again)."""

    def load(self) -> list[ApiKey]: ...

    def save(self, keys: list[ApiKey]) -> None: ...


def _parse(payload: object, where: str) -> list[ApiKey]:
    try:
        return [ApiKey.from_json(entry) for entry in payload["keys"]]  # type: ignore[index]
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyStoreError(
            f"the API key store {where} is not a key store ({type(exc).__name__}: {exc}); restore it or "
            "remove it and create keys again"
        ) from exc


class JsonFileKeyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return str(self.path)

    def version(self) -> tuple[int, int] | None:
        """Changes whenever the file is replaced (`save` renames a new file over it); None when there is none."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns)

    def load(self) -> list[ApiKey]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyStoreError(f"cannot read the API key store {self.path}: {exc.strerror or exc}") from exc
        try:
            payload = json.loads(text)
        except ValueError as exc:
            raise KeyStoreError(f"the API key store {self.path} is not a key store (not JSON: {exc})") from exc
        return _parse(payload, str(self.path))

    def save(self, keys: list[ApiKey]) -> None:
        """Replace the store atomically: a reader sees the old file or the new one, never half of one."""
        payload = json.dumps({"keys": [key.to_json() for key in keys]}, indent=2) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".api-keys-", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise KeyStoreError(f"cannot write the API key store {self.path}: {exc.strerror or exc}") from exc


class VaultKeyStore:
    """The keys as a KV v2 secret `{"keys": [...]}` at `mount`/`path`; its version number tells a change."""

    def __init__(self, vault: VaultSession, mount: str, path: str) -> None:
        self.vault = vault
        self.mount = mount
        self.path = path

    def describe(self) -> str:
        return f"Vault {self.mount}/{self.path}"

    def version(self) -> int | None:
        return self._vault("reading", lambda: self.vault.secret_version(self.mount, self.path))

    def load(self) -> list[ApiKey]:
        if self.version() is None:
            return []
        return _parse(self._vault("reading", lambda: self.vault.read_secret(self.mount, self.path)), self.describe())

    def save(self, keys: list[ApiKey]) -> None:
        payload = {"keys": [key.to_json() for key in keys]}
        self._vault("writing", lambda: self.vault.write_secret(self.mount, self.path, payload))

    def _vault(self, doing: str, call):
        from spam_service.vault import VaultError

        try:
            return call()
        except VaultError as exc:
            raise KeyStoreError(f"{doing} the API key store in Vault: {exc}") from exc
