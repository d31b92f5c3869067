"""MLflow tracking stores for the lifecycle tests, and a small exported model to register in them.

Creating an MLflow SQLite store runs its migrations (~5 s here), so one template store is made per session and
each test gets a copy of the file: a fresh, empty registry in milliseconds.
"""

import json
import shutil
from pathlib import Path

import joblib

from spam_service.model.artifact import BASELINE_FILE, BASELINE_TABLES_FILE, MODEL_CARD_FILE, write_serving_metadata
from spam_service.model.baseline_scorer import write_tables
from spam_service.pipeline.baseline import build_baseline
from tests.support.samples import synthetic

STORE_FILE = "mlflow.db"


def create_template_store(directory: Path) -> Path:
    """An empty, migrated MLflow SQLite store in `directory`; returns the database file."""
    from mlflow import MlflowClient

    directory.mkdir(parents=True, exist_ok=True)
    database = directory / STORE_FILE
    MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    return database


def store_uri(database: Path) -> str:
    return f"sqlite:///{database}"


def fake_export(checkpoint: Path, directory: Path, *, digest: str = "0123456789ab", backend: str = "torch") -> Path:
    """An exported model directory as the export stage writes it, around a tiny checkpoint: the checkpoint's files,
    a TF-IDF baseline fitted on synthetic messages (pickle and tables), serving.json and a model card."""
    shutil.copytree(checkpoint, directory, ignore=shutil.ignore_patterns("_vocab"))
    examples = synthetic(60, seed=4)
    baseline = build_baseline().fit([e.text for e in examples], [e.label for e in examples])
    joblib.dump(baseline, directory / BASELINE_FILE)
    write_tables(baseline, directory / BASELINE_TABLES_FILE)
    write_serving_metadata(directory, {"name": "tiny", "version": digest, "max_tokens": 64, "default_backend": backend})
    (directory / MODEL_CARD_FILE).write_text("# tiny\n", encoding="utf-8")
    return directory


def evaluation_reports(
    spam_f1: float = 0.97,
    spam_f1_interval: tuple[float, float] = (0.95, 0.99),
    ham_blocked: float = 0.005,
    ham_blocked_interval: tuple[float, float] = (0.001, 0.01),
    int8_spam_f1: float = 0.968,
    fp32_spam_f1: float = 0.97,
) -> tuple[dict, dict]:
    """(metrics.json, backends.json) as the evaluate stage writes them, reduced to what tracking and the gate read."""
    metrics = {
        "spam_f1": spam_f1,
        "ham_blocked_rate": ham_blocked,
        "accuracy": 0.99,
        "ci95": {
            "spam_f1": dict(zip(("low", "high"), spam_f1_interval, strict=True)),
            "ham_blocked_rate": dict(zip(("low", "high"), ham_blocked_interval, strict=True)),
            "accuracy": {"low": 0.98, "high": 0.995},
        },
        "backend": "onnx-int8",
        "n_test": 1000,
        "transformer": {"spam_f1": 0.96, "ci95": {"spam_f1": {"low": 0.94, "high": 0.98}}},
        "test_unseen": {"n": 900, "model": {"spam_f1": 0.95, "spam_recall": 0.94}},
        "probe": {"n": 40, "n_spam": 20, "model": {"spam_f1": 0.9, "spam_recall": 0.85}},
        "operating_point": {
            "ham_blocked_budget": 0.005,
            "chosen_on": "validation",
            "thresholds": {"combined": 0.62, "transformer": 0.58},
            "test": {"n": 1000, "roc_auc": 0.99, "at_threshold": {"spam_recall": 0.95, "ham_blocked_rate": 0.004}},
        },
    }
    served = {"torch": fp32_spam_f1, "onnx": fp32_spam_f1, "onnx-int8": int8_spam_f1}
    backends = {
        "default_backend": "onnx-int8",
        "int8_recipe": "static-percentile",
        "rule": "fastest backend within 0.003 spam F1 of torch fp32",
        "batch_size": 32,
        "backends": {
            name: {"served": {"spam_f1": f1}, "transformer": {"spam_f1": f1 - 0.003}, "texts_per_s": 100.0 + i}
            for i, (name, f1) in enumerate(served.items())
        },
        "int8_candidates": {
            "dynamic": {"served": {"spam_f1": int8_spam_f1 - 0.01}, "texts_per_s": 110.0, "percentile": 100.0},
            "static-percentile": {"served": {"spam_f1": int8_spam_f1}, "texts_per_s": 102.0, "percentile": 99.999},
        },
    }
    return metrics, backends


def write_reports(reports_dir: Path, metrics: dict, backends: dict) -> None:
    """The evaluate stage's report files under `reports_dir` (plot and texts as placeholders)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (reports_dir / "backends.json").write_text(json.dumps(backends), encoding="utf-8")
    (reports_dir / "confusion_matrix.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (reports_dir / "classification_report.txt").write_text("report\n", encoding="utf-8")
    (reports_dir / "errors.jsonl").write_text('{"label": "spam", "text": "x"}\n', encoding="utf-8")
    (reports_dir / "probe_predictions.jsonl").write_text('{"label": "ham", "text": "y"}\n', encoding="utf-8")
    for plot in ("precision_recall.png", "roc.png", "reliability.png"):
        (reports_dir / plot).write_bytes(b"\x89PNG\r\n\x1a\n")


def publish(export: Path, workdir: Path, **reports: object) -> tuple[str, str]:
    """Register the exported model directory `export` as the export stage does (a run in the `spam-classifier`
    experiment, the servable subset as its pyfunc model, a version tagged with the gate's figures) in
    MLFLOW_TRACKING_URI's store. `reports` change the evaluation figures (see evaluation_reports). Returns (version,
    run id)."""
    from spam_service.models.publication import publish_export
    from spam_service.models.tracking import tracked_run

    with tracked_run("export", run_record=workdir / "no-run-record.json") as run:
        version = publish_export(run, export, *evaluation_reports(**reports))
    return version, run.run_id


def publish_fake_export(checkpoint: Path, workdir: Path, **reports: object) -> tuple[str, str]:
    """`publish` a tiny exported model made around `checkpoint` (see fake_export)."""
    return publish(fake_export(checkpoint, workdir / "export"), workdir, **reports)
