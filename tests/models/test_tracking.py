"""The pipeline's MLflow run across stages: started by train, resumed by evaluate and export, tagged and logged."""

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from spam_service.models.registry import ModelRegistry, RegistryError
from spam_service.models.tracking import (
    RUN_RECORD_FILE,
    dvc_lock_tags,
    git_revision,
    log_evaluation,
    record_run,
    tracked_run,
)
from spam_service.pipeline.train import EvalPoint, log_validation
from tests.support import REPO_ROOT
from tests.support.live_server import free_port
from tests.support.mlflow_stores import evaluation_reports, write_reports

PARAMS = {
    "prepare": {"seed": 42, "raw": "data/raw/SMSSpamCollection"},
    "model": {"name": "spam-test", "base": "all-MiniLM-L6-v2"},
    "train": {"learning_rate": 1e-4, "max_epochs": 3},
    "evaluate": {"bootstrap_samples": 1000},
}
LOCK = {
    "schema": "2.0",
    "stages": {
        "train": {
            "cmd": "python -m spam_service.pipeline.train",
            "deps": [{"path": "data/prepared", "hash": "md5", "md5": "aaa.dir"}],
            "outs": [{"path": "models/checkpoint", "hash": "md5", "md5": "bbb.dir"}],
        }
    },
}


@pytest.fixture
def pipeline_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory laid out as `dvc repro` runs the stages in: params.yaml, dvc.lock, a checkpoint dir."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(LOCK))
    (tmp_path / "models" / "checkpoint").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_train_starts_the_run_and_evaluate_resumes_it_logging_metrics_artifacts_and_tags(tracking_store, pipeline_dir):
    with tracked_run("train", start=True, run_name="spam-test") as train_run:
        for step, f1 in ((10, 0.8), (20, 0.9)):
            log_validation(train_run, EvalPoint(epoch=step / 20, step=step, loss=1 - f1, spam_f1=f1, accuracy=0.95))
        record = record_run(train_run, pipeline_dir / "models" / "checkpoint")
    assert json.loads(record.read_text())["run_id"] == train_run.run_id

    write_reports(pipeline_dir / "reports", *evaluation_reports())
    with tracked_run("evaluate") as evaluate_run:
        log_evaluation(evaluate_run)
    assert evaluate_run.run_id == train_run.run_id

    client = ModelRegistry().client
    run = client.get_run(train_run.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "spam-test"
    assert run.data.params["train.learning_rate"] == "0.0001" and run.data.params["prepare.seed"] == "42"
    assert "evaluate.bootstrap_samples" not in run.data.params  # evaluate's own parameters may change per re-run
    assert run.data.tags["params.evaluate.bootstrap_samples"] == "1000"
    history = client.get_metric_history(run.info.run_id, "validation.spam_f1")
    assert [(m.step, m.value) for m in history] == [(10, 0.8), (20, 0.9)]
    metrics = run.data.metrics
    assert metrics["spam_f1"] == 0.97 and metrics["ci95.spam_f1.low"] == 0.95 and metrics["ci95.spam_f1.high"] == 0.99
    assert metrics["test_unseen.model.spam_f1"] == 0.95 and metrics["probe.model.spam_recall"] == 0.85
    assert metrics["backends.onnx-int8.served.spam_f1"] == 0.968 and metrics["backends.torch.texts_per_s"] == 100.0
    assert metrics["int8_candidates.dynamic.texts_per_s"] == 110.0
    assert metrics["int8_candidates.static-percentile.percentile"] == 99.999
    tags = run.data.tags
    assert tags["default_backend"] == "onnx-int8" and tags["int8_recipe"] == "static-percentile"
    assert tags["dvc.lock/train/data/prepared"] == "aaa.dir" and tags["dvc.lock/train/models/checkpoint"] == "bbb.dir"
    assert tags["git_revision"] == "unknown" and tags["git_dirty"] == "unknown"  # tmp_path is no git repository
    assert {"stage.train", "stage.evaluate"} <= tags.keys() and "fresh_run_reason" not in tags
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "reports")}
    names = (
        "confusion_matrix.png",
        "precision_recall.png",
        "roc.png",
        "reliability.png",
        "classification_report.txt",
        "errors.jsonl",
        "probe_predictions.jsonl",
        "metrics.json",
        "backends.json",
    )
    assert artifacts == {f"reports/{name}" for name in names}


def test_without_a_recorded_run_a_stage_starts_a_fresh_one_saying_why(tracking_store, pipeline_dir):
    with tracked_run("export") as run:
        pass
    tags = ModelRegistry().client.get_run(run.run_id).data.tags
    expected = f"export: models/checkpoint/{RUN_RECORD_FILE} missing: the checkpoint was trained without tracking"
    assert tags["fresh_run_reason"] == expected

    record = pipeline_dir / "models" / "checkpoint" / RUN_RECORD_FILE
    record.write_text(json.dumps({"run_id": "0" * 32}))
    with tracked_run("evaluate") as fresh:
        pass
    reason = ModelRegistry().client.get_run(fresh.run_id).data.tags["fresh_run_reason"]
    assert fresh.run_id != run.run_id and f"run {'0' * 32}" in reason and "is not in the store" in reason
    assert ModelRegistry().client.get_run(fresh.run_id).data.params["model.name"] == "spam-test"


def test_a_failing_stage_marks_its_run_failed(tracking_store, pipeline_dir):
    with pytest.raises(ZeroDivisionError), tracked_run("train", start=True) as run:
        raise ZeroDivisionError
    assert ModelRegistry().client.get_run(run.run_id).info.status == "FAILED"


def test_an_unreachable_tracking_store_fails_the_stage_with_one_line_naming_it(pipeline_dir, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    with pytest.raises(RegistryError, match=f"MLFLOW_TRACKING_URI={uri}"), tracked_run("train", start=True):
        pytest.fail("the stage ran untracked")
    assert time.monotonic() - started < 10


def test_the_default_store_keeps_everything_under_mlruns(pipeline_dir, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    write_reports(pipeline_dir / "reports", *evaluation_reports())
    with tracked_run("evaluate") as run:
        log_evaluation(run)
    assert (pipeline_dir / "mlruns" / "mlflow.db").is_file()
    assert list((pipeline_dir / "mlruns" / "artifacts").rglob("metrics.json"))
    assert sorted(p.name for p in pipeline_dir.iterdir()) == ["dvc.lock", "mlruns", "models", "params.yaml", "reports"]
    assert "MLFLOW_TRACKING_URI" not in os.environ  # the fluent API's setting was undone


def test_git_revision_of_a_repository_and_unknown_without_git(tmp_path, monkeypatch):
    revision, dirty = git_revision(REPO_ROOT)
    assert len(revision) == 40 and dirty in {"true", "false"}
    assert git_revision(tmp_path) == ("unknown", "unknown")
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable
    assert git_revision(REPO_ROOT) == ("unknown", "unknown")


def test_dvc_lock_tags_are_empty_before_the_first_repro(tmp_path):
    assert dvc_lock_tags(tmp_path / "dvc.lock") == {}
    tags = dvc_lock_tags(REPO_ROOT / "dvc.lock")
    assert tags["dvc.lock/prepare/data/raw/SMSSpamCollection"] == "1949b64a224790d01335c2bf8a0e48b2"
