"""The export stage's publication: the servable subset, the run's pyfunc model, the registered version's tags."""

import shutil
from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest

from spam_service.model.classifier import SpamClassifier
from spam_service.models.publication import build_servable, pip_requirements
from spam_service.models.registry import ModelRegistry, RegistryError
from tests.support.mlflow_stores import fake_export
from tests.support.tiny_models import export_tiny_onnx


@pytest.fixture(scope="module")
def tiny_onnx_export(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny export whose default backend is onnx-int8, as a real export's is."""
    directory = fake_export(tiny_bert_dir, tmp_path_factory.mktemp("onnx-export") / "export", backend="onnx-int8")
    export_tiny_onnx(directory)
    return directory


def test_the_servable_subset_of_an_int8_export_has_only_the_int8_network(tiny_onnx_export, tmp_path):
    assert build_servable(tiny_onnx_export, tmp_path / "servable") == "onnx-int8"
    files = sorted(str(p.relative_to(tmp_path / "servable")) for p in (tmp_path / "servable").rglob("*") if p.is_file())
    assert "onnx/model.int8.onnx" in files and "onnx/model.onnx" not in files
    assert not [f for f in files if f.endswith(".safetensors")]
    assert {"config.json", "tokenizer.json", "serving.json", "README.md", "baseline.joblib"} <= set(files)
    assert SpamClassifier.load(tmp_path / "servable", max_tokens=64).backend == "onnx-int8"


def test_the_servable_subset_of_a_torch_export_keeps_the_weights(tiny_bert_dir, tmp_path):
    export = fake_export(tiny_bert_dir, tmp_path / "export", backend="torch")
    assert build_servable(export, tmp_path / "servable") == "torch"
    assert (tmp_path / "servable" / "model.safetensors").is_file()
    assert not (tmp_path / "servable" / "onnx").exists()
    assert any(r.startswith("torch==") for r in pip_requirements("torch"))
    assert not any(r.startswith("torch") for r in pip_requirements("onnx-int8"))


def test_an_export_missing_what_its_backend_needs_is_refused(tiny_onnx_export, tmp_path):
    broken = tmp_path / "export"
    shutil.copytree(tiny_onnx_export, broken)
    (broken / "onnx" / "model.int8.onnx").unlink()
    with pytest.raises(RegistryError, match=r"lacks onnx/model.int8.onnx for its default backend onnx-int8"):
        build_servable(broken, tmp_path / "servable")


def test_the_registered_version_carries_the_gates_figures_and_provenance(published):
    version = ModelRegistry().get(published.version)
    tags = version.tags
    assert version.run_id == published.run_id and version.source.startswith("models:/m-")
    assert tags["test.spam_f1"] == "0.97" and tags["test.spam_f1.ci95_low"] == "0.95"
    assert tags["test.ham_blocked_rate.ci95_high"] == "0.01" and tags["int8_rule"] == "pass"
    assert tags["int8_rule.int8_spam_f1"] == "0.968" and tags["int8_rule.fp32_spam_f1"] == "0.97"
    assert tags["model_version"] == "0123456789ab" and tags["git_revision"] == "unknown"
    run = ModelRegistry().client.get_run(published.run_id)
    assert run.data.tags["registered_version"] == published.version


def test_the_registered_pyfunc_model_loads_and_predicts(published):
    model = mlflow.pyfunc.load_model(f"models:/spam-classifier/{published.version}")
    inputs = [column.name for column in model.metadata.get_input_schema().inputs]
    outputs = {column.name: str(column.type) for column in model.metadata.get_output_schema().inputs}
    assert inputs == ["text"] and outputs == {"label": "DataType.string", "spam_probability": "DataType.double"}
    frame = model.predict(pd.DataFrame({"text": ["win cash prize now", "see you at home"]}))
    assert list(frame.columns) == ["label", "spam_probability"] and len(frame) == 2
    assert set(frame["label"]) <= {"spam", "ham"} and frame["spam_probability"].between(0, 1).all()
    listed = model.unwrap_python_model().predict(None, ["win cash prize now", "see you at home"])
    assert listed.equals(frame)
