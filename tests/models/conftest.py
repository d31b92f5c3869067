"""A registry holding one version of a tiny exported model, registered the way the export stage does it."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.mlflow_stores import publish_fake_export


@dataclass(frozen=True)
class Published:
    tracking_uri: str
    version: str  # "1"
    run_id: str
    model_uri: str  # the logged model, to register more versions of it cheaply
    export_dir: Path


@pytest.fixture
def published(tracking_store: str, tiny_bert_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Published:
    from spam_service.models.registry import ModelRegistry

    monkeypatch.chdir(tmp_path)  # stages read params.yaml and dvc.lock in the working directory: none here
    version, run_id = publish_fake_export(tiny_bert_dir, tmp_path)
    source = ModelRegistry().get(version).source
    return Published(tracking_store, version, run_id, source, tmp_path / "export")
