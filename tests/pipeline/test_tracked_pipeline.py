"""The pipeline's stages run in order, as `dvc repro` runs them, on tiny data and a tiny base model: one MLflow run
collects train's, evaluate's and export's records, and export registers a version that fetches and serves."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from spam_service.model.classifier import SpamClassifier
from spam_service.models.registry import ModelRegistry
from tests.support import REPO_ROOT
from tests.support.samples import synthetic

STAGES = ("prepare", "baseline", "train", "onnx_export", "evaluate", "export")
LOCK = {"schema": "2.0", "stages": {"prepare": {"outs": [{"path": "data/prepared", "md5": "e778.dir"}]}}}


def write_workdir(workdir: Path, base_model: Path) -> None:
    rows = [f"{e.label}\t{e.text} {i}" for i, e in enumerate(synthetic(150, seed=7))]  # numbered: no duplicates
    (workdir / "data" / "raw").mkdir(parents=True)
    (workdir / "data" / "raw" / "collection.tsv").write_text("\n".join(rows) + "\n")
    (workdir / "data" / "modern").mkdir()
    modern = [f"{e.label}\t{e.text} m{i}" for i, e in enumerate(synthetic(40, seed=9))]
    (workdir / "data" / "modern" / "modern.tsv").write_text("\n".join(modern) + "\n")
    (workdir / "data" / "probe").mkdir()
    (workdir / "data" / "probe" / "modern_sms.tsv").write_text(
        "\n".join(f"{e.label}\t{e.text}" for e in synthetic(12, seed=8)) + "\n"
    )
    params = {
        "prepare": {
            "raw": "data/raw/collection.tsv",
            "modern": "data/modern/modern.tsv",
            "seed": 42,
            "test_size": 0.2,
            "validation_size": 0.2,
        },
        "model": {"name": "spam-test", "base": str(base_model)},
        "train": {
            "max_length": 32,
            "batch_size": 8,
            "learning_rate": 3e-3,
            "max_epochs": 2,
            "evals_per_epoch": 1,
            "text_normalization": "variables",
        },
        "baseline": {"C": 10.0, "class_weight": "balanced"},
        "quantization": {
            "calibration_texts": 16,
            "sensitivity_texts": 16,
            "seed": 42,
            "candidates": {
                "dynamic": {"method": "dynamic"},
                "static-keep1": {"method": "static", "calibration": "minmax", "keep_fp32": 1},
            },
        },
        "evaluate": {"ham_blocked_budget": 0.05, "combination": "stacked", "bootstrap_samples": 50, "seed": 42},
        "export": {"max_tokens": 64},
    }
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    (workdir / "dvc.lock").write_text(yaml.safe_dump(LOCK))


@pytest.mark.slow
def test_the_stages_log_one_run_and_export_registers_a_servable_version(tiny_bert_dir, tmp_path, tracking_store):
    write_workdir(tmp_path, tiny_bert_dir)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    for stage in STAGES:
        command = [sys.executable, "-m", f"spam_service.pipeline.{stage}"]
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{stage}: {result.stderr[-3000:]}"

    run_id = json.loads((tmp_path / "models/checkpoint/mlflow_run.json").read_text())["run_id"]
    assert not (tmp_path / "weights/spam-test/mlflow_run.json").exists()
    assert not (tmp_path / "mlruns").exists() and not (tmp_path / "mlartifacts").exists()
    registry = ModelRegistry()
    run = registry.client.get_run(run_id)
    experiment = registry.client.get_experiment_by_name("spam-classifier")
    assert run.info.status == "FINISHED" and run.info.experiment_id == experiment.experiment_id
    assert run.data.params["model.name"] == "spam-test" and run.data.params["train.max_epochs"] == "2"
    assert {"stage.train", "stage.evaluate", "stage.export"} <= run.data.tags.keys()
    assert "fresh_run_reason" not in run.data.tags and run.data.tags["dvc.lock/prepare/data/prepared"] == "e778.dir"
    assert run.data.tags["registered_version"] == "1"
    metrics = run.data.metrics
    assert {"validation.spam_f1", "spam_f1", "ci95.spam_f1.low", "ci95.ham_blocked_rate.high"} <= metrics.keys()
    assert {"test_unseen.model.spam_f1", "probe.model.spam_recall", "backends.onnx-int8.served.spam_f1"} <= set(metrics)
    backends = json.loads((tmp_path / "reports/backends.json").read_text())
    chosen = backends["int8_recipe"]
    assert run.data.tags["int8_recipe"] == chosen and run.data.tags["default_backend"] == backends["default_backend"]
    assert metrics[f"int8_candidates.{chosen}.texts_per_s"] == backends["int8_candidates"][chosen]["texts_per_s"]
    reports = {a.path for a in registry.client.list_artifacts(run_id, "reports")}
    assert {"reports/confusion_matrix.png", "reports/errors.jsonl", "reports/roc.png"} <= reports
    assert {"reports/precision_recall.png", "reports/probe_predictions.jsonl", "reports/reliability.png"} <= reports
    assert {"operating_point.validation.at_threshold.ham_blocked_rate", "operating_point.probe.roc_auc"} <= set(metrics)

    version = registry.get("1")
    serving = json.loads((tmp_path / "weights/spam-test/serving.json").read_text())
    assert version.run_id == run_id and version.tags["model_version"] == serving["version"]
    assert version.tags["int8_rule"] in {"pass", "fail"} and "test.spam_f1.ci95_low" in version.tags
    fetched = registry.fetch("models:/spam-classifier/1", tmp_path / "model-cache")
    classifier = SpamClassifier.load(fetched.directory, max_tokens=64)
    assert classifier.backend == serving["default_backend"] and classifier.version == serving["version"]
    # The operating point chosen on validation is what the export records, registers and serves by default.
    reported = json.loads((tmp_path / "reports/metrics.json").read_text())
    threshold = reported["operating_point"]["thresholds"]["combined"]
    assert serving["operating_point"]["thresholds"]["combined"] == threshold == reported["threshold"]
    assert reported["operating_point"]["validation"]["at_threshold"]["ham_blocked_rate"] <= 0.05
    assert float(version.tags["operating_point.threshold"]) == threshold == classifier.spam_threshold

    # Every validation source keeps the budget at the served threshold; each set's figures reach the registry.
    per_source = serving["operating_point"]["per_source"]
    assert per_source == reported["operating_point"]["per_source"]
    assert {"validation sms-collection", "validation modern-synthetic", "probe"} <= per_source.keys()
    for name in ("validation sms-collection", "validation modern-synthetic"):
        assert per_source[name]["ham_flagged"] <= 0.05
    tag = "operating_point.validation_modern-synthetic.ham_flagged"
    assert float(version.tags[tag]) == per_source["validation modern-synthetic"]["ham_flagged"]
    # The combination fitted on validation and the training's normalisation are what the registered model serves:
    # it gives a probe text the probability evaluate reported for it.
    assert serving["combination"] == reported["calibration"]["combination"]
    assert classifier.combination.as_dict() == serving["combination"]["combined"]
    assert classifier.normalizer.mode == serving["text_normalization"] == "variables"
    assert 0 <= reported["calibration"]["ece"]["validation"] <= 1
    first = json.loads((tmp_path / "reports/probe_predictions.jsonl").read_text().splitlines()[0])
    assert classifier.predict([first["text"]])[0].spam_probability == pytest.approx(first["spam_probability"], abs=1e-4)
