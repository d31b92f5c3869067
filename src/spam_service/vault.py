"""Secrets read from Vault (hvac), with the token kept alive for as long as the service runs.

Start-up logs in (AppRole, or a token) and reads a KV v2 secret (the service's: where HDFS is). Every
failure becomes a `VaultError` whose one-line message says which step failed and what to check; secret
values, tokens and secret ids never appear in messages or logs.

After start-up a daemon thread renews the token before it expires (or logs in again with AppRole when renewal is
no longer possible). Vault going away then only produces warnings: the HDFS location is already known, so no
request depends on Vault.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from spam_service.errors import StartupError
from spam_service.outage import OutageTracker

if TYPE_CHECKING:
    import hvac

    from spam_service.settings import Settings

_logger = logging.getLogger(__name__)
T = TypeVar("T")


class VaultError(StartupError):
    """A Vault step failed; the message names it and what to check. Fatal at start-up, a warning afterwards."""


@dataclass(frozen=True)
class AppRoleLogin:
    role_id: str
    secret_id: str
    mount: str = "approle"

    def __repr__(self) -> str:
        return f"AppRoleLogin(mount={self.mount!r})"


@dataclass(frozen=True)
class TokenLogin:
    token: str

    def __repr__(self) -> str:
        return "TokenLogin()"


def _read_secret_file(path: Path, setting: str) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise VaultError(f"cannot read {setting}={path} ({exc.strerror or exc})") from exc
    if not value:
        raise VaultError(f"{setting}={path} is empty")
    return value


def login_from_settings(settings: Settings) -> AppRoleLogin | TokenLogin:
    """AppRole when a role id is given (value or file), else a token; `VaultError` when neither is."""
    if settings.vault_role_id or settings.vault_role_id_file:
        role_id = (
            settings.vault_role_id.get_secret_value()
            if settings.vault_role_id
            else _read_secret_file(settings.vault_role_id_file, "VAULT_ROLE_ID_FILE")  # type: ignore[arg-type]
        )
        secret_id = (
            settings.vault_secret_id.get_secret_value()
            if settings.vault_secret_id
            else _read_secret_file(settings.vault_secret_id_file, "VAULT_SECRET_ID_FILE")  # type: ignore[arg-type]
        )
        return AppRoleLogin(role_id, secret_id, settings.vault_approle_mount)
    if settings.vault_token:
        return TokenLogin(settings.vault_token.get_secret_value())
    if settings.vault_token_file:
        return TokenLogin(_read_secret_file(settings.vault_token_file, "VAULT_TOKEN_FILE"))
    raise VaultError(
        "VAULT_ADDR is set but no credentials are: set VAULT_ROLE_ID and VAULT_SECRET_ID (or their _FILE "
        "variants) for AppRole, or VAULT_TOKEN / VAULT_TOKEN_FILE"
    )


class VaultSession:
    """An authenticated hvac client for one Vault, and the thread that keeps its token valid."""

    def __init__(
        self,
        addr: str,
        login: AppRoleLogin | TokenLogin,
        *,
        namespace: str | None = None,
        verify: bool | str = True,
        timeout: float = 5.0,
    ) -> None:
        self.addr = addr.rstrip("/")
        self.login_method = login
        self.namespace = namespace
        self.verify = verify
        self.timeout = timeout
        self._client: hvac.Client | None = None
        self._ttl = 0
        self._renewable = False
        self._outage = OutageTracker(_logger)  # renewal failures; `_next_wait` paces the retries
        self._last_renewal: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> VaultSession:
        assert settings.vault_addr
        return cls(
            settings.vault_addr,
            login_from_settings(settings),
            namespace=settings.vault_namespace,
            verify=str(settings.vault_cacert) if settings.vault_cacert else True,
            timeout=settings.vault_timeout,
        )

    # -- start-up --------------------------------------------------------------------------------------------

    def authenticate(self) -> None:
        import hvac

        self._client = hvac.Client(url=self.addr, namespace=self.namespace, verify=self.verify, timeout=self.timeout)
        if isinstance(self.login_method, AppRoleLogin):
            self._call(
                "AppRole login",
                lambda c: c.auth.approle.login(
                    role_id=self.login_method.role_id,  # type: ignore[union-attr]
                    secret_id=self.login_method.secret_id,  # type: ignore[union-attr]
                    mount_point=self.login_method.mount,  # type: ignore[union-attr]
                ),
                denied="Vault refused the AppRole login: check VAULT_ROLE_ID / VAULT_SECRET_ID (a secret id may "
                "have expired or run out of uses; the bootstrap in vault/ issues a new one)",
            )
        else:
            self._client.token = self.login_method.token
        info = self._call(
            "token lookup",
            lambda c: c.auth.token.lookup_self(),
            denied="Vault rejected the token: check VAULT_TOKEN / VAULT_TOKEN_FILE (expired or revoked?)",
        )
        data = info.get("data") or {}
        self._ttl = int(data.get("ttl") or 0)
        self._renewable = bool(data.get("renewable"))
        _logger.info(
            "vault: authenticated at %s with %s (token ttl %s, renewable %s)",
            self.addr,
            "AppRole" if isinstance(self.login_method, AppRoleLogin) else "a token",
            f"{self._ttl} s" if self._ttl else "none",
            self._renewable,
        )

    def read_secret(self, mount: str, path: str) -> dict[str, Any]:
        """The data of the newest version of a KV v2 secret."""
        where = f"{mount}/{path}"
        response = self._call(
            f"reading secret {where}",
            lambda c: c.secrets.kv.v2.read_secret_version(path=path, mount_point=mount, raise_on_deleted_version=True),
            # Vault checks the policy before the path: to a least-privilege token a missing secret looks forbidden.
            denied=f"the service's Vault policy may not read {mount}/data/{path}: grant it read (see vault/), or fix "
            "VAULT_KV_MOUNT / VAULT_HDFS_SECRET_PATH if the secret lives elsewhere",
            missing=f"no secret at {where} (KV v2 mount {mount!r}): write it with vault/bootstrap.sh, or set "
            "VAULT_KV_MOUNT / VAULT_HDFS_SECRET_PATH",
        )
        return dict((response.get("data") or {}).get("data") or {})

    def secret_version(self, mount: str, path: str) -> int | None:
        """The current version of a KV v2 secret (it grows with every write); None when there is none."""
        import hvac.exceptions

        def current(client: hvac.Client) -> int | None:
            try:
                metadata = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)
            except hvac.exceptions.InvalidPath:
                return None
            return int((metadata.get("data") or {}).get("current_version") or 0)

        return self._call(
            f"reading the metadata of {mount}/{path}",
            current,
            denied=f"the Vault policy may not read {mount}/metadata/{path}: grant it read (vault/bootstrap.sh does)",
        )

    def write_secret(self, mount: str, path: str, data: dict[str, Any]) -> None:
        """Write a new version of a KV v2 secret."""
        self._call(
            f"writing secret {mount}/{path}",
            lambda c: c.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=mount),
            denied=f"this Vault token may not write {mount}/data/{path}: use an operator's token (VAULT_TOKEN)",
        )

    # -- keeping the token alive -------------------------------------------------------------------------------

    def start_renewal(self) -> None:
        if self._thread is not None or (self._ttl == 0 and isinstance(self.login_method, TokenLogin)):
            return  # a token without TTL (e.g. a root token) never expires
        self._thread = threading.Thread(target=self._renew_forever, name="vault-token-renewal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def status(self) -> dict[str, Any]:
        return {
            "addr": self.addr,
            "auth": "approle" if isinstance(self.login_method, AppRoleLogin) else "token",
            "token_ttl_s": self._ttl,
            "renewable": self._renewable,
            "last_renewal": self._last_renewal,
            "last_error": self._outage.last_error,
        }

    def _renew_forever(self) -> None:
        while not self._stop.wait(self._next_wait()):
            try:
                self._renew_once()
            except VaultError as error:
                self._outage.failed(
                    str(error), "vault: keeping the token alive failed (%s); retrying", error, level=logging.WARNING
                )
                continue
            self._outage.succeeded("vault: token renewed again", level=logging.INFO)
            self._last_renewal = time.time()

    def _next_wait(self) -> float:
        if self._outage.failing:
            return 10.0 if not self._ttl else min(30.0, max(1.0, self._ttl / 10))
        return max(1.0, self._ttl * 2 / 3) if self._ttl else 3600.0

    def _renew_once(self) -> None:
        if self._renewable:
            try:
                response = self._call("token renewal", lambda c: c.auth.token.renew_self(), denied="token expired")
                auth = response.get("auth") or {}
                new_ttl = int(auth.get("lease_duration") or 0)
                # At the max TTL Vault renews for less than asked: log in again before the token runs out.
                if new_ttl >= min(self._ttl, 60) or isinstance(self.login_method, TokenLogin):
                    self._ttl, self._renewable = new_ttl, bool(auth.get("renewable"))
                    return
            except VaultError:
                if isinstance(self.login_method, TokenLogin):
                    raise
        if isinstance(self.login_method, AppRoleLogin):
            self.authenticate()
            _logger.info("vault: logged in again with AppRole")

    # -- hvac boundary -------------------------------------------------------------------------------------------

    def _call(
        self,
        step: str,
        action: Callable[[hvac.Client], T],
        *,
        denied: str,
        missing: str | None = None,
    ) -> T:
        import hvac.exceptions
        import requests

        assert self._client is not None
        try:
            return action(self._client)
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized) as exc:
            raise VaultError(f"{step}: {denied}") from exc
        except hvac.exceptions.InvalidRequest as exc:
            if isinstance(self.login_method, AppRoleLogin) and "login" in step:
                raise VaultError(f"{step}: {denied}") from exc
            raise VaultError(f"{step}: Vault refused the request ({self._scrub(exc.errors)})") from exc
        except hvac.exceptions.InvalidPath as exc:
            raise VaultError(f"{step}: {missing or 'not found in Vault'}") from exc
        except (hvac.exceptions.VaultDown, hvac.exceptions.VaultNotInitialized) as exc:
            raise VaultError(f"{step}: Vault at {self.addr} is sealed or not initialised: unseal it") from exc
        except hvac.exceptions.VaultError as exc:
            raise VaultError(f"{step}: Vault answered an error ({self._scrub(exc.errors)})") from exc
        except requests.exceptions.SSLError as exc:
            raise VaultError(
                f"{step}: TLS verification of {self.addr} failed: check VAULT_CACERT or the address's scheme"
            ) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise VaultError(
                f"{step}: Vault at {self.addr} is unreachable ({type(exc).__name__}): check VAULT_ADDR and that "
                "Vault is running"
            ) from exc

    def _scrub(self, errors: Iterable[Any] | None) -> str:
        """Vault's error strings, with any credential this session holds masked (in case one is echoed)."""
        text = "; ".join(str(e) for e in (errors or [])) or "no detail"
        secrets = [getattr(self.login_method, name, "") for name in ("role_id", "secret_id", "token")]
        if self._client is not None and self._client.token:
            secrets.append(self._client.token)
        for secret in filter(None, secrets):
            text = text.replace(secret, "***")
        return text[:300]
