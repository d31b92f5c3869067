"""API keys and roles.

A key is `spam_` + 32 random URL-safe bytes (256 bits): the prefix names the service in a secret scanner or a leaked
log. Only its SHA-256 is stored. A fast hash is enough here (unlike for passwords): the key is random, so there is
nothing to guess from the hash.

Roles:
- `predict`: /predict, and feedback on its own predictions;
- `feedback`: feedback on any prediction (reviewers);
- `admin`: everything, /status, /statistics and /metrics included.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

Role = Literal["predict", "feedback", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
KEY_PREFIX = "spam_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as stored: never the key itself."""

    name: str
    role: Role
    digest: str  # SHA-256 of the key, hex
    created: datetime  # aware, UTC
    expires: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires is not None and (now or datetime.now(UTC)) >= self.expires

    def to_json(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "role": self.role,
            "sha256": self.digest,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> ApiKey:
        role = data["role"]
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        return cls(
            name=str(data["name"]),
            role=role,
            digest=str(data["sha256"]),
            created=datetime.fromisoformat(data["created"]),
            expires=datetime.fromisoformat(data["expires"]) if data.get("expires") else None,
        )


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValueError(
            f"key name {name!r} must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    return name
