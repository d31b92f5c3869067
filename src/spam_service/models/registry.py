"""The model registry (MLflow): resolve and fetch registered versions of `spam-classifier`.

INTERFACE SKELETON: filled in by the tracking/registry work; the serving side codes against these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from spam_service.errors import SpamServiceError

REGISTERED_MODEL = "spam-classifier"
REGISTRY_URI_PREFIX = "models:/"
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"  # relative to the working directory; /mlruns/ is git-ignored


class RegistryError(SpamServiceError):
    """The registry cannot do what was asked; the message says what to check or run."""

    status_code = 503


class UnknownModelVersionError(RegistryError):
    """The URI names a version or alias the registry does not have."""

    status_code = 404


def is_registry_uri(uri: str) -> bool:
    return uri.startswith(REGISTRY_URI_PREFIX)


def tracking_uri(configured: str | None = None) -> str:
    """`configured`, else MLFLOW_TRACKING_URI from the environment, else the embedded local store."""
    raise NotImplementedError


@dataclass(frozen=True, slots=True)
class FetchedModel:
    directory: Path  # an exported model directory SpamClassifier.load reads
    registry_version: str  # "3"
    uri: str  # as asked, e.g. models:/spam-classifier@champion


class ModelRegistry:
    def __init__(self, tracking_uri: str | None = None) -> None:
        raise NotImplementedError

    def resolve(self, uri: str) -> str:
        """The version number (as a string) that `models:/NAME@ALIAS` or `models:/NAME/VERSION` names now.
        Raises UnknownModelVersionError, RegistryError."""
        raise NotImplementedError

    def fetch(self, uri: str, cache_dir: Path) -> FetchedModel:
        """Download (once per version: kept in `cache_dir`) the servable directory of the version `uri` names."""
        raise NotImplementedError
