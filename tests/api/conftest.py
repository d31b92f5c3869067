from pathlib import Path

import pytest

from spam_service.api.app import create_app, load_classifier
from spam_service.classifier import SpamClassifier
from spam_service.request_log import FileRequestLogSink
from spam_service.settings import Settings


@pytest.fixture(scope="session")
def trained_classifier(trained_model_dir: Path) -> SpamClassifier:
    return load_classifier(Settings(model_dir=trained_model_dir, torch_threads=2))


@pytest.fixture
def make_app(trained_classifier: SpamClassifier, tmp_path: Path):
    """Build an app around the trained model with a request log under tmp_path; settings overridable."""

    def make(**overrides):
        settings = Settings(request_log_dir=tmp_path / "logs", **overrides)
        sink = FileRequestLogSink(settings.request_log_dir)
        return create_app(settings, classifier=trained_classifier, request_log=sink), settings

    return make
