"""A model URI -> the classifier serving it: an exported directory as it is, or a registry version
(`models:/spam-classifier@champion`, `models:/spam-classifier/3`) downloaded into MODEL_CACHE_DIR first.

Used at start-up and by every model swap (`spam_service.model.swap`), so both load a model the same way: the
engine options of the settings, then a warm-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from spam_service.errors import REPRODUCE_HINT, ModelLoadError, StartupError
from spam_service.model.artifact import CONFIG_FILE, read_serving_metadata
from spam_service.model.classifier import SpamClassifier
from spam_service.model.engines import resolve_backend
from spam_service.model.pass_costs import measure_pass_costs
from spam_service.models.registry import ModelRegistry, RegistryError, is_registry_uri
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)

WARM_UP_TEXTS = ["warm-up", "warm-up: a longer text, so that a padded batch is run as well"]


class ModelNotFoundError(ModelLoadError):
    """The URI names a directory that holds no model."""

    status_code = 404


def locate_model(uri: str, settings: Settings) -> tuple[Path, str | None]:
    """The directory `uri` names and its registry version (None for a plain directory). A registry URI is fetched
    (downloaded once per version); raises `RegistryError`, `UnknownModelVersionError`, `ModelNotFoundError`."""
    if is_registry_uri(uri):
        fetched = ModelRegistry(settings.mlflow_tracking_uri).fetch(uri, settings.model_cache_dir)
        return fetched.directory, fetched.registry_version
    directory = Path(uri).expanduser()
    if not (directory / CONFIG_FILE).is_file():
        raise ModelNotFoundError(f"no model at {directory}/ ({CONFIG_FILE} missing): {REPRODUCE_HINT}")
    return directory, None


def load_model(uri: str, settings: Settings, *, threads: Callable[[str], int | None] | None = None) -> SpamClassifier:
    """The model `uri` names, with the engine and limits the settings choose, warmed up. Blocking (seconds).

    `threads(backend)`, when given, chooses the intra-op threads instead of INFERENCE_THREADS (the challenger of
    shadow scoring runs on one)."""
    directory, registry_version = locate_model(uri, settings)
    backend = resolve_backend(
        settings.inference_backend, directory, read_serving_metadata(directory).get("default_backend")
    )
    classifier = SpamClassifier.load(
        directory,
        backend=backend,
        max_tokens=settings.max_tokens,
        batch_size=settings.inference_batch_size,
        spam_threshold=settings.spam_threshold,
        threads=threads(backend) if threads is not None else settings.inference_threads,
        combine_baseline=settings.combine_baseline,
    )
    classifier.registry_version = registry_version
    classifier.uri = uri
    # The first passes allocate buffers and pick kernels per shape: pay for them before the first client does.
    classifier.predict(WARM_UP_TEXTS)
    classifier.pass_costs = costs = measure_pass_costs(classifier)
    _logger.info(
        "%s (%s): forward passes of up to %d texts, fixed cost %.0f tokens (measured: %s)",
        uri,
        classifier.backend,
        costs.max_texts,
        costs.overhead_tokens,
        ", ".join(f"{n} texts {s * 1000:.2f} ms" for n, s in costs.seconds_per_pass.items()),
    )
    return classifier


def load_model_at_startup(
    setting: str, uri: str, settings: Settings, *, threads: Callable[[str], int | None] | None = None
) -> SpamClassifier:
    """`load_model` for a model a setting names at start-up: a registry the service cannot reach, or a version it
    lacks, is a `StartupError` naming the setting (MODEL_URI, SHADOW_MODEL_URI)."""
    try:
        return load_model(uri, settings, threads=threads)
    except RegistryError as exc:
        raise StartupError(f"{setting}={uri}: {exc}") from exc
