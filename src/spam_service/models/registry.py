"""The model registry (MLflow): resolve and fetch registered versions of `spam-classifier`, list them, move aliases.

A thin wrapper around `mlflow.MlflowClient`: every MLflow error becomes `RegistryError` (or
`UnknownModelVersionError` when the thing asked for does not exist) with a one-line message naming the tracking URI
and what to check. mlflow takes ~3 s to import, so it is imported on first use, never when this module is.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from spam_service.errors import SpamServiceError, first_line

REGISTERED_MODEL = "spam-classifier"
EXPERIMENT = "spam-classifier"  # the experiment the pipeline's runs go to
ALIASES = ("champion", "challenger")
REGISTRY_URI_PREFIX = "models:/"
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # relative to the working directory; /mlruns/ is git-ignored
SQLITE_PREFIX = "sqlite:///"
LOCAL_ARTIFACTS_DIR = "artifacts"  # beside an SQLite store's file: mlruns/artifacts for the default one
SERVABLE_ARTIFACT = "model"  # the key of the servable directory among the pyfunc model's artifacts
PYFUNC_METADATA_FILE = "MLmodel"
LIST_HINT = "run `python -m spam_service.models list` to see the registered versions and aliases"

# `models:/NAME@ALIAS` or `models:/NAME/VERSION`
_REGISTRY_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))")


class RegistryError(SpamServiceError):
    """The registry cannot do what was asked; the message says what to check or run."""

    status_code = 503


class UnknownModelVersionError(RegistryError):
    """The URI names a version or alias the registry does not have."""

    status_code = 404


def is_registry_uri(uri: str) -> bool:
    return uri.startswith(REGISTRY_URI_PREFIX)


def parse_registry_uri(uri: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of `models:/NAME@ALIAS` or `models:/NAME/VERSION`; one of alias/version is None."""
    match = _REGISTRY_URI.fullmatch(uri.strip())
    if match is None:
        raise UnknownModelVersionError(
            f"{uri!r} is not a registry URI: expected models:/{REGISTERED_MODEL}@ALIAS "
            f"(e.g. @champion) or models:/{REGISTERED_MODEL}/VERSION"
        )
    return match["name"], match["alias"], match["version"]


def version_uri(version: str, name: str = REGISTERED_MODEL) -> str:
    return f"{REGISTRY_URI_PREFIX}{name}/{version}"


def tracking_uri(configured: str | None = None) -> str:
    """`configured`, else MLFLOW_TRACKING_URI from the environment, else the embedded local store."""
    return configured or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


_resolve_tracking_uri = tracking_uri  # ModelRegistry's parameter of that name hides the function


def sqlite_store_file(uri: str) -> Path | None:
    """The database file of an `sqlite:///` tracking URI (relative or absolute), None for any other store."""
    if not uri.startswith(SQLITE_PREFIX) or uri == SQLITE_PREFIX + ":memory:":
        return None
    return Path(uri.removeprefix(SQLITE_PREFIX).split("?", 1)[0])


def absolute_store_uri(uri: str) -> str:
    """An `sqlite:///relative/path` URI made absolute against the working directory now; others unchanged. MLflow
    caches stores by URI, so a relative one would keep pointing at the first directory it was used in."""
    database = sqlite_store_file(uri)
    if database is None or database.is_absolute():
        return uri
    _, separator, query = uri.partition("?")
    return f"{SQLITE_PREFIX}{database.absolute()}{separator}{query}"


def local_artifact_location(uri: str) -> str | None:
    """Where a local SQLite store's runs keep their artifacts: `artifacts/` beside the database (mlruns/artifacts for
    the default store), so nothing lands in ./mlruns/<id> or ./mlartifacts of whatever directory a command ran in.
    None for a server, which decides its own artifact store."""
    database = sqlite_store_file(uri)
    return None if database is None else str((database.parent / LOCAL_ARTIFACTS_DIR).resolve())


def set_fast_failure_defaults() -> None:
    """Make an unreachable tracking server fail in seconds, not after MLflow's default ~2 minutes of retries.
    For command-line entry points; variables already set win."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")


@dataclass(frozen=True, slots=True)
class FetchedModel:
    directory: Path  # an exported model directory SpamClassifier.load reads
    registry_version: str  # "3"
    uri: str  # as asked, e.g. models:/spam-classifier@champion


@dataclass(frozen=True, slots=True)
class RegisteredVersion:
    """One version of the registered model, as the CLI and the promotion gate see it."""

    version: str
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    created: datetime | None = None
    source: str = ""


def masked_uri(uri: str) -> str:
    """`uri` with the password of its user info, if any, replaced by ***: what messages and logs may show of a
    tracking URI (a database URI such as postgresql://mlflow:secret@db/mlflow carries one)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def without_password(text: str, uri: str) -> str:
    """`text` (an MLflow error, which may quote the URL it called) with `uri`'s password, if any, replaced by ***."""
    password = urlsplit(uri).password
    return text.replace(password, "***") if password else text


class ModelRegistry:
    """The `spam-classifier` registered model in the MLflow store at `tracking_uri` (see `tracking_uri()`).

    Does no I/O until a method is called. Not thread-safe; one per thread (MlflowClient is cheap to build)."""

    def __init__(self, tracking_uri: str | None = None, name: str = REGISTERED_MODEL) -> None:
        self.tracking_uri = absolute_store_uri(_resolve_tracking_uri(tracking_uri))
        self.name = name
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The MlflowClient (built on first use: importing mlflow takes seconds)."""
        if self._client is None:
            from mlflow import MlflowClient

            database = sqlite_store_file(self.tracking_uri)
            if database is not None:
                with self.translated_errors("create the local tracking store"):
                    database.parent.mkdir(parents=True, exist_ok=True)
            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    @contextmanager
    def translated_errors(self, action: str) -> Iterator[None]:
        """MLflow's errors inside become ours: RESOURCE_DOES_NOT_EXIST -> UnknownModelVersionError, anything else
        (an unreachable server, a broken store) -> RegistryError; each one line saying where and what to do."""
        import requests
        import sqlalchemy.exc
        from mlflow.exceptions import MlflowException

        try:
            yield
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                cause = without_password(first_line(exc, 200), self.tracking_uri)
                raise UnknownModelVersionError(
                    f"cannot {action}: {cause} in the registry at MLFLOW_TRACKING_URI={masked_uri(self.tracking_uri)}; "
                    f"{LIST_HINT}"
                ) from exc
            raise RegistryError(self._failure(action, exc)) from exc
        # What MLflow lets through unwrapped: a locked or corrupt SQLite store, a broken connection mid-download.
        except (OSError, sqlalchemy.exc.SQLAlchemyError, requests.RequestException) as exc:
            raise RegistryError(self._failure(action, exc)) from exc

    def _failure(self, action: str, exc: BaseException) -> str:
        if sqlite_store_file(self.tracking_uri) is not None:
            hint = "check that the directory is writable and the file is an MLflow database"
        else:
            hint = (
                "check that the tracking server is running and reachable, or unset MLFLOW_TRACKING_URI to use the "
                f"local store ({DEFAULT_TRACKING_URI})"
            )
        where = masked_uri(self.tracking_uri)
        cause = without_password(first_line(exc, 200), self.tracking_uri)
        return f"cannot {action} at MLFLOW_TRACKING_URI={where} ({cause}): {hint}"

    # -- reading -------------------------------------------------------------------------------------------------

    def resolve(self, uri: str) -> str:
        """The version number (as a string) that `models:/NAME@ALIAS` or `models:/NAME/VERSION` names now.
        Raises UnknownModelVersionError, RegistryError."""
        name, alias, version = parse_registry_uri(uri)
        if alias is not None:
            with self.translated_errors(f"resolve {uri}"):
                aliases = self.client.get_registered_model(name).aliases
            if alias not in aliases:
                known = ", ".join(f"@{a} -> {v}" for a, v in sorted(aliases.items())) or "none"
                raise UnknownModelVersionError(
                    f"{uri}: {name} has no alias {alias!r} (aliases: {known}); set it with "
                    f"`python -m spam_service.models promote VERSION --alias {alias}`"
                )
            return str(aliases[alias])
        with self.translated_errors(f"resolve {uri}"):
            return str(self.client.get_model_version(name, version).version)

    def get(self, version: str) -> RegisteredVersion:
        """One version of this registered model, with its aliases and tags."""
        with self.translated_errors(f"read version {version} of {self.name}"):
            found = self.client.get_model_version(self.name, str(version))
            aliases = self.client.get_registered_model(self.name).aliases
        return self._registered_version(found, aliases)

    def versions(self) -> list[RegisteredVersion]:
        """Every version of this registered model, newest first (empty when it is not registered yet)."""
        with self.translated_errors(f"list the versions of {self.name}"):
            found = self.client.search_model_versions(f"name = '{self.name}'")
            aliases = self.client.get_registered_model(self.name).aliases if found else {}
        ordered = sorted(found, key=lambda v: int(v.version), reverse=True)
        return [self._registered_version(v, aliases) for v in ordered]

    def aliases(self) -> dict[str, str]:
        """alias -> version; empty when the model is not registered yet."""
        from mlflow.exceptions import MlflowException

        with self.translated_errors(f"read the aliases of {self.name}"):
            try:
                return {a: str(v) for a, v in self.client.get_registered_model(self.name).aliases.items()}
            except MlflowException as exc:
                if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                    return {}
                raise

    @staticmethod
    def _registered_version(found: Any, aliases: dict[str, Any]) -> RegisteredVersion:
        version = str(found.version)
        return RegisteredVersion(
            version=version,
            aliases=tuple(sorted(a for a, v in aliases.items() if str(v) == version)),
            tags=dict(found.tags or {}),
            run_id=found.run_id or None,
            created=datetime.fromtimestamp(found.creation_timestamp / 1000, UTC) if found.creation_timestamp else None,
            source=found.source or "",
        )

    # -- writing -------------------------------------------------------------------------------------------------

    def register(self, model_uri: str, *, run_id: str | None, tags: dict[str, str]) -> str:
        """Register `model_uri` (a logged model) as a new version, creating the registered model when absent."""
        from mlflow.exceptions import MlflowException

        with self.translated_errors(f"register a version of {self.name}"):
            try:
                self.client.get_registered_model(self.name)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                self.client.create_registered_model(self.name, description="Spam/ham SMS classifier (spam_service)")
            created = self.client.create_model_version(self.name, source=model_uri, run_id=run_id, tags=tags)
        return str(created.version)

    def set_alias(self, alias: str, version: str) -> None:
        with self.translated_errors(f"set @{alias} to version {version} of {self.name}"):
            self.client.get_model_version(self.name, str(version))  # an unknown version: UnknownModelVersionError
            self.client.set_registered_model_alias(self.name, alias, str(version))

    def set_version_tags(self, version: str, tags: dict[str, str]) -> None:
        with self.translated_errors(f"tag version {version} of {self.name}"):
            for key, value in tags.items():
                self.client.set_model_version_tag(self.name, str(version), key, value)

    # -- fetching ------------------------------------------------------------------------------------------------

    def fetch(self, uri: str, cache_dir: Path) -> FetchedModel:
        """Download (once per version: kept in `cache_dir`) the servable directory of the version `uri` names.

        The whole pyfunc model lands in `cache_dir/<name>/<version>/`; the directory returned is its servable
        artifact (`artifacts/<dir>` inside), which `SpamClassifier.load` reads. The download goes to a temporary
        directory beside it and is renamed into place, so a crash or a concurrent fetch never leaves half a model
        where the next fetch would take it as complete."""
        name, _, _ = parse_registry_uri(uri)
        version = self.resolve(uri)
        target = Path(cache_dir) / name / version
        if not (target / PYFUNC_METADATA_FILE).is_file():
            self._download(name, version, target)
        return FetchedModel(directory=servable_directory(target), registry_version=version, uri=uri)

    def _download(self, name: str, version: str, target: Path) -> None:
        import mlflow.artifacts

        with self.translated_errors(f"download version {version} of {name}"):
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=target.parent))
            try:
                source = self.client.get_model_version_download_uri(name, version)
                downloaded = Path(
                    mlflow.artifacts.download_artifacts(
                        artifact_uri=source, dst_path=str(staging), tracking_uri=self.tracking_uri
                    )
                )  # a directory URI lands in staging/<its last component>
                if not (downloaded / PYFUNC_METADATA_FILE).is_file():
                    raise RegistryError(
                        f"version {version} of {name} at {source} is not an MLflow model ({PYFUNC_METADATA_FILE} "
                        "missing): register models with the pipeline's export stage"
                    )
                if target.exists():  # an incomplete earlier attempt (no MLmodel): replace it
                    shutil.rmtree(target)
                try:
                    downloaded.rename(target)
                except OSError:
                    if not (target / PYFUNC_METADATA_FILE).is_file():  # not a concurrent fetch that won: a failure
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)


def servable_directory(pyfunc_dir: Path) -> Path:
    """The servable directory inside a downloaded pyfunc model, where its MLmodel file says the artifact is."""
    import yaml

    try:
        metadata = yaml.safe_load((pyfunc_dir / PYFUNC_METADATA_FILE).read_text(encoding="utf-8"))
        relative = metadata["flavors"]["python_function"]["artifacts"][SERVABLE_ARTIFACT]["path"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise RegistryError(
            f"{pyfunc_dir} holds no servable model (no `{SERVABLE_ARTIFACT}` artifact in its {PYFUNC_METADATA_FILE}: "
            f"{first_line(exc)}); delete it to download again, or register models with the pipeline's export stage"
        ) from exc
    return pyfunc_dir / relative
