from pathlib import Path

import pytest

from spam_service.api.app import create_app, load_classifier
from spam_service.classifier import SpamClassifier
from spam_service.request_log import FileRequestLogSink
from spam_service.settings import Settings


@pytest.fixture(scope="session")
def trained_classifier(trained_model_dir: Path) -> SpamClassifier:
    return load_classifier(Settings(model_dir=trained_model_dir, inference_threads=2))


MODEL_SETTINGS = {"max_tokens", "spam_threshold", "combine_baseline", "inference_batch_size", "inference_backend"}


@pytest.fixture
def make_app(trained_classifier: SpamClassifier, trained_model_dir: Path, tmp_path: Path):
    """Build an app around the trained model with a request log under tmp_path; settings overridable (a setting
    of the model itself loads the model again with it)."""

    def make(**overrides):
        values = {"request_log_dir": tmp_path / "logs", "model_dir": trained_model_dir, "inference_threads": 2}
        settings = Settings(**{**values, **overrides})
        classifier = load_classifier(settings) if MODEL_SETTINGS & overrides.keys() else trained_classifier
        sink = FileRequestLogSink(settings.request_log_dir)
        return create_app(settings, classifier=classifier, request_log=sink), settings

    return make
