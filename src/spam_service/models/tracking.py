"""MLflow tracking of the DVC pipeline: one run per trained model, across the stages that make it.

`train` starts the run (experiment `spam-classifier`) and records its id beside the checkpoint
(`models/checkpoint/mlflow_run.json`); `evaluate` and `export` resume it when the tracking store knows it, else start
a fresh run whose `fresh_run_reason` tag says why. Every stage tags the run with the git revision and the `dvc.lock`
hashes as they stand when it runs (dvc writes a stage's lock entry after the stage, so the last stage's tags hold
every earlier stage's current hashes).

The store is `registry.tracking_uri()`'s: MLFLOW_TRACKING_URI, else the local SQLite store under mlruns/. A tracked
stage whose store is unreachable fails (RegistryError, one line): tracking is never skipped silently.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from spam_service.models.registry import (
    EXPERIMENT,
    ModelRegistry,
    local_artifact_location,
    masked_uri,
    set_fast_failure_defaults,
)
from spam_service.pipeline.params import PARAMS_FILE
from spam_service.pipeline.paths import (
    BACKENDS_REPORT,
    CHECKPOINT_DIR,
    CLASSIFICATION_REPORT,
    CONFUSION_MATRIX_PLOT,
    ERRORS_REPORT,
    METRICS_REPORT,
    PRECISION_RECALL_PLOT,
    PROBE_PREDICTIONS,
    RELIABILITY_PLOT,
    ROC_PLOT,
)

_logger = logging.getLogger(__name__)

RUN_RECORD_FILE = "mlflow_run.json"  # in the checkpoint: which run trained it (weights_digest ignores it)
DVC_LOCK_FILE = Path("dvc.lock")
TRACKED_PARAM_SECTIONS = ("prepare", "model", "train")  # what makes the model; logged once, as run parameters
EVALUATION_ARTIFACTS = (
    CONFUSION_MATRIX_PLOT,
    PRECISION_RECALL_PLOT,
    ROC_PLOT,
    RELIABILITY_PLOT,
    CLASSIFICATION_REPORT,
    ERRORS_REPORT,
    PROBE_PREDICTIONS,
    METRICS_REPORT,
    BACKENDS_REPORT,
)
UNKNOWN = "unknown"

TAG_GIT_REVISION = "git_revision"
TAG_GIT_DIRTY = "git_dirty"
TAG_FRESH_RUN_REASON = "fresh_run_reason"
DVC_TAG_PREFIX = "dvc.lock/"  # dvc.lock/<stage>/<path> = md5
PARAM_TAG_PREFIX = "params."  # params.evaluate.bootstrap_samples = 1000


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, keys dotted: {"ci95": {"spam_f1": {"low": 0.9}}} -> {"ci95.spam_f1.low": 0.9}"""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def numbers(values: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The numeric leaves of `values` (flattened), as metrics; strings, lists and booleans are left out."""
    return {
        name: float(value)
        for name, value in flatten(values, prefix).items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def git_revision(cwd: Path | None = None) -> tuple[str, str]:
    """(commit, "true"/"false" for uncommitted changes to tracked files); ("unknown", "unknown") without git or a
    repository (a source archive, an image without git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=30)
        if head.returncode != 0:
            return UNKNOWN, UNKNOWN
        command = ["git", "status", "--porcelain", "--untracked-files=no"]
        status = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return UNKNOWN, UNKNOWN
    dirty = UNKNOWN if status.returncode != 0 else str(bool(status.stdout.strip())).lower()
    return head.stdout.strip(), dirty


def dvc_lock_tags(lock_file: Path = DVC_LOCK_FILE) -> dict[str, str]:
    """`dvc.lock/<stage>/<path>`: the md5 dvc.lock records for each dep and out of each stage; {} when there is no
    lock yet (the first `dvc repro`) or it is unreadable."""
    try:
        lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        if lock_file.exists():
            _logger.warning("%s unreadable (%s): its hashes are not tagged", lock_file, exc)
        return {}
    tags = {}
    for stage, entry in (lock.get("stages") or {}).items():
        for item in [*(entry.get("deps") or []), *(entry.get("outs") or [])]:
            if isinstance(item, dict) and item.get("path") and item.get("md5"):
                tags[f"{DVC_TAG_PREFIX}{stage}/{item['path']}"] = str(item["md5"])
    return tags


def tracked_params(
    sections: tuple[str, ...] = TRACKED_PARAM_SECTIONS, params_file: Path = PARAMS_FILE
) -> dict[str, Any]:
    """The params.yaml `sections`, flattened (`train.learning_rate`); absent sections skipped."""
    if not params_file.is_file():  # a stage run outside the pipeline (a test, a notebook): nothing to log
        return {}
    params = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    return flatten({section: params[section] for section in sections if section in params})


@dataclass
class StageRun:
    """The MLflow run a stage logs to (the fluent API's active run while the `tracked_run` block runs)."""

    run_id: str
    stage: str
    registry: ModelRegistry

    def log_params(self, params: Mapping[str, Any]) -> None:
        with self.registry.translated_errors(f"log parameters to run {self.run_id}"):
            import mlflow

            mlflow.log_params({key: str(value) for key, value in params.items()})

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        with self.registry.translated_errors(f"log metrics to run {self.run_id}"):
            import mlflow

            mlflow.log_metrics(dict(metrics), step=step)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        with self.registry.translated_errors(f"tag run {self.run_id}"):
            import mlflow

            mlflow.set_tags({key: str(value) for key, value in tags.items()})

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        with self.registry.translated_errors(f"store {path} in run {self.run_id}"):
            import mlflow

            mlflow.log_artifact(str(path), artifact_path=artifact_path)


def experiment_id(registry: ModelRegistry, name: str = EXPERIMENT) -> str:
    """The experiment `name` (`spam-classifier` by default), created when absent; a local store keeps its artifacts
    beside its database."""
    with registry.translated_errors(f"open the experiment {name!r}"):
        found = registry.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        return registry.client.create_experiment(name, artifact_location=local_artifact_location(registry.tracking_uri))


def recorded_run(registry: ModelRegistry, record: Path) -> tuple[str | None, str]:
    """(the run `record` names, if the store has it; else None and why a fresh run is started)."""
    from mlflow.exceptions import MlflowException

    try:
        run_id = json.loads(record.read_text(encoding="utf-8"))["run_id"]
    except FileNotFoundError:
        return None, f"{record} missing: the checkpoint was trained without tracking"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{record} unreadable ({exc})"
    with registry.translated_errors(f"read run {run_id}"):
        try:
            registry.client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            return None, f"run {run_id} (from {record}) is not in the store at {masked_uri(registry.tracking_uri)}"
    return run_id, ""


@contextmanager
def tracked_run(
    stage: str,
    *,
    start: bool = False,
    run_record: Path = CHECKPOINT_DIR / RUN_RECORD_FILE,
    tracking_uri: str | None = None,
    run_name: str | None = None,
) -> Iterator[StageRun]:
    """The MLflow run of `stage`, active while the block runs (FINISHED after it, FAILED when it raises).

    `start` (train): a new run, whose id the caller records with `record_run` once the checkpoint exists.
    Otherwise (evaluate, export): the run `run_record` names, or a fresh one tagged with why.
    Raises RegistryError (one line naming MLFLOW_TRACKING_URI) when the store is unreachable."""
    set_fast_failure_defaults()
    registry = ModelRegistry(tracking_uri)
    import mlflow

    previous_env = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(registry.tracking_uri)  # the fluent API (log_model) follows the global URI
    try:
        experiment = experiment_id(registry)
        run_id, why_fresh = (None, "") if start else recorded_run(registry, run_record)
        with registry.translated_errors(f"start a run for stage {stage}"):
            active = mlflow.start_run(run_id=run_id, experiment_id=None if run_id else experiment, run_name=run_name)
        with active:
            run = StageRun(active.info.run_id, stage, registry)
            revision, dirty = git_revision()
            run.set_tags(
                {
                    TAG_GIT_REVISION: revision,
                    TAG_GIT_DIRTY: dirty,
                    f"stage.{stage}": datetime.now(UTC).isoformat(timespec="seconds"),
                    **dvc_lock_tags(),
                    # A later stage's own section (evaluate, export) may change between re-runs of one trained
                    # model, which a run parameter cannot: a tag can.
                    **{f"{PARAM_TAG_PREFIX}{k}": v for k, v in tracked_params((stage,)).items() if stage != "train"},
                }
            )
            if run_id is None:
                run.log_params(tracked_params())
                if why_fresh:
                    run.set_tags({TAG_FRESH_RUN_REASON: f"{stage}: {why_fresh}"})
                    _logger.info("MLflow: new run %s for %s (%s)", run.run_id, stage, why_fresh)
            yield run
    finally:
        mlflow.set_tracking_uri(previous_env)  # None unsets it again: tests and callers keep their own setting


def record_run(run: StageRun, checkpoint_dir: Path) -> Path:
    """Write the run's id beside the checkpoint, for evaluate and export to resume."""
    path = checkpoint_dir / RUN_RECORD_FILE
    record = {"run_id": run.run_id, "tracking_uri": masked_uri(run.registry.tracking_uri)}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def log_evaluation(run: StageRun) -> None:
    """The evaluate stage's reports: metrics.json's figures as metrics (keys as in the file: `spam_f1`,
    `ci95.spam_f1.low`, `test_unseen.model.spam_f1`, `probe.model.spam_recall`...), backends.json's under
    `backends.` and the int8 candidates' under `int8_candidates.`, the chosen backend and int8 recipe as tags, and the
    report files as artifacts under `reports/`."""
    metrics = json.loads(METRICS_REPORT.read_text(encoding="utf-8"))
    backends = json.loads(BACKENDS_REPORT.read_text(encoding="utf-8"))
    run.log_metrics(
        {
            **numbers(metrics),
            **numbers(backends["backends"], "backends."),
            **numbers(backends["int8_candidates"], "int8_candidates."),
        }
    )
    run.set_tags({"default_backend": backends["default_backend"], "int8_recipe": backends["int8_recipe"]})
    for path in EVALUATION_ARTIFACTS:
        run.log_artifact(path, "reports")
