"""Where API keys live: a JSON file (API_KEYS_FILE), written atomically with mode 0600, holding names, roles, dates
and the SHA-256 of each key, never a key."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from spam_service.auth.keys import ApiKey
from spam_service.errors import SpamServiceError


class KeyStoreError(SpamServiceError):
    """The key store cannot be read or written; the message says which file and why."""


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
            return [ApiKey.from_json(entry) for entry in json.loads(text)["keys"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(
                f"the API key store {self.path} is not a key store ({type(exc).__name__}: {exc}); restore it or "
                "remove it and create keys again"
            ) from exc

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
