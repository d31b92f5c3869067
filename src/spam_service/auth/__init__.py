"""API keys: who may call what. `keys` (the key format, roles, what a route needs), `key_store` (where keys live,
hashed), `authenticator` (a presented key -> the caller, kept in step with the store while the service runs)."""

from spam_service.auth.authenticator import Authenticator, Caller
from spam_service.auth.key_store import JsonFileKeyStore, KeyStoreError
from spam_service.auth.keys import ROLES, ApiKey, Role

__all__ = ["ROLES", "ApiKey", "Authenticator", "Caller", "JsonFileKeyStore", "KeyStoreError", "Role"]
