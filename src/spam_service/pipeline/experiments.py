"""Experiments with the training recipe: each variant in experiments.yaml trained, scored and logged to MLflow.

`python -m spam_service.pipeline.experiments [NAME ...]` trains each named variant (all when none is named) with
params.yaml's `train` and `model` sections overridden as the variant says, on the prepared splits (`dvc repro
prepare baseline` first), and scores it as the pipeline would serve it: torch fp32, with the pipeline's TF-IDF
baseline (models/baseline.joblib) combined in each of `spam_service.model.combination`'s ways, each fitted on
validation, at the threshold that keeps every validation source within `evaluate.ham_blocked_budget`.

Every variant is scored on validation and the probe, which choose the default, and on the test splits, which only
report (choosing on test would make its figures optimistic). Each becomes a run of the MLflow experiment
`spam-classifier-experiments`; reports/experiments.json keeps every variant's figures (one run can add or refresh
some) and reports/experiments.md tabulates them.

A variant may instead score an existing checkpoint (`--checkpoint NAME=DIR`, with DIR/baseline.joblib if the
baseline it was served with differs from the pipeline's): how an earlier model does on today's validation and
probe without retraining it.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import joblib
import yaml

from spam_service.model.artifact import BASELINE_FILE
from spam_service.model.classifier import SpamClassifier
from spam_service.model.combination import METHODS
from spam_service.models.registry import ModelRegistry, RegistryError
from spam_service.models.tracking import experiment_id, numbers
from spam_service.pipeline.baseline import fit_baseline
from spam_service.pipeline.calibration import expected_calibration_error, fit_combination
from spam_service.pipeline.dataset import COLLECTION_SOURCE, MODERN_SOURCE, Example, read_collection, read_jsonl
from spam_service.pipeline.evaluate import split_by_source
from spam_service.pipeline.feedback_data import FeedbackParams, feedback_examples, read_feedback, training_feedback
from spam_service.pipeline.operating_point import choose_threshold_by_source, labels_at, ranking_quality
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import BASELINE_PATH, FEEDBACK_DATASET, PROBE_PATH, REPORTS_DIR, split_path
from spam_service.pipeline.scores import binary_metrics
from spam_service.pipeline.train import TrainConfig, train

_logger = logging.getLogger(__name__)

EXPERIMENTS_FILE = Path("experiments.yaml")
EXPERIMENTS_DIR = Path("models/experiments")  # each variant's checkpoint (git-ignored, like models/)
RESULTS_FILE = REPORTS_DIR / "experiments.json"
TABLE_FILE = REPORTS_DIR / "experiments.md"
MLFLOW_EXPERIMENT = "spam-classifier-experiments"
VALIDATION_SOURCES = (COLLECTION_SOURCE, MODERN_SOURCE)


def load_variants(path: Path = EXPERIMENTS_FILE) -> dict[str, dict[str, Any]]:
    variants = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    allowed = {f.name for f in fields(TrainConfig)} - {"base_model"}
    for name, variant in variants.items():
        unknown = set(variant.get("train", {})) - allowed
        if unknown:
            raise SystemExit(f"{path}: variant {name!r} overrides unknown train parameters {sorted(unknown)}")
    return variants


def training_config(variant: dict[str, Any]) -> TrainConfig:
    base = variant.get("model", {}).get("base", load_params("model")["base"])
    return TrainConfig(base_model=base, **{**load_params("train"), **variant.get("train", {})})


def training_examples(variant: dict[str, Any]) -> tuple[list[Example], list[Example]]:
    """The prepared train and validation splits, reduced to the variant's `sources` when it names some."""
    sources = variant.get("sources")
    splits = [read_jsonl(split_path(name)) for name in ("train", "validation")]
    if sources is None:
        return splits[0], splits[1]
    return tuple([e for e in split if e.source in sources] for split in splits)  # type: ignore[return-value]


def score(classifier: SpamClassifier, budget: float) -> dict[str, Any]:
    """Per combination method (`spam_service.model.combination`, each fitted on validation): validation's sources,
    the probe and the test splits at the threshold that keeps every validation source within the budget, with
    the threshold-free figures and the expected calibration error."""
    test, test_modern = split_by_source(read_jsonl(split_path("test")))
    validation = read_jsonl(split_path("validation"))
    sets = {
        **{f"validation {source}": [e for e in validation if e.source == source] for source in VALIDATION_SOURCES},
        "probe": read_collection(PROBE_PATH),
        "test": test,
        "test_modern": test_modern,
    }
    raw = {
        name: classifier.predict([e.text for e in examples])
        for name, examples in [("validation", validation), *sets.items()]
    }
    truth = {name: [e.label for e in examples] for name, examples in [("validation", validation), *sets.items()]}
    results: dict[str, Any] = {}
    for method in METHODS:
        fitted = fit_combination(
            method,
            truth["validation"],
            [p.transformer_probability for p in raw["validation"]],
            [p.baseline_probability or 0.0 for p in raw["validation"]],
        )
        scores = {
            name: [fitted.combine(p.transformer_probability, p.baseline_probability) for p in predicted]
            for name, predicted in raw.items()
        }
        threshold, _ = choose_threshold_by_source(
            truth["validation"], scores["validation"], [e.source for e in validation], budget
        )
        view: dict[str, Any] = {"threshold": threshold, "combination": fitted.as_dict()}
        for name in sets:
            at = binary_metrics(truth[name], labels_at(scores[name], threshold))
            view[name] = {
                "spam_recall": at["spam_recall"],
                "ham_flagged": at["ham_blocked_rate"],
                "spam_f1": at["spam_f1"],
                "ece": expected_calibration_error(truth[name], scores[name]),
                **ranking_quality(truth[name], scores[name]),
            }
        results[method] = view
    return results


def run_variant(name: str, variant: dict[str, Any], checkpoint: Path | None, budget: float) -> dict[str, Any]:
    started = time.perf_counter()
    training: dict[str, Any] = {}
    if checkpoint is None:
        checkpoint = EXPERIMENTS_DIR / name
        train_examples, validation_examples = training_examples(variant)
        feedback = FeedbackParams.load()
        excluded = list(feedback.exclude_reporters)
        # The feedback dataset trains every variant as it trains the pipeline's model (it is not a `source`).
        reported = feedback_examples(training_feedback(read_feedback(FEEDBACK_DATASET), excluded))
        summary = train(
            train_examples,
            validation_examples,
            training_config(variant),
            checkpoint,
            progress=False,
            extra_examples=reported,
            extra_weight=feedback.weight,
            excluded_reporters=excluded,
        )
        training = {
            "seconds": summary["seconds"],
            "best_epoch": summary["best"]["epoch"],
            "rows": len(train_examples),
            "feedback_rows": len(reported),
        }
        config = training_config(variant)
        if "sources" in variant or "text_normalization" in variant.get("train", {}):
            # The pipeline's baseline saw every source, normalised as params.yaml says: fit one like the variant.
            own = fit_baseline(train_examples, text_normalization=config.text_normalization)
            joblib.dump(own, checkpoint / BASELINE_FILE)
    # A checkpoint with its own baseline (a variant's, or a scored earlier model's) is served with it.
    own_baseline = checkpoint / BASELINE_FILE
    baseline = own_baseline if own_baseline.is_file() else BASELINE_PATH
    max_tokens = load_params("export")["max_tokens"]
    classifier = SpamClassifier.load(checkpoint, backend="torch", max_tokens=max_tokens, baseline_path=baseline)
    return {
        "description": variant.get("description", ""),
        "overrides": {key: variant[key] for key in ("model", "train", "sources") if key in variant},
        "checkpoint": str(checkpoint),
        "training": training,
        "scores": score(classifier, budget),
        "seconds": round(time.perf_counter() - started, 1),
    }


def log_to_mlflow(name: str, result: dict[str, Any]) -> str:
    import mlflow

    registry = ModelRegistry()
    mlflow.set_tracking_uri(registry.tracking_uri)
    experiment = experiment_id(registry, MLFLOW_EXPERIMENT)
    params = {key: json.dumps(value) for key, value in result["overrides"].items()}
    logging_errors = registry.translated_errors(f"log experiment {name}")
    with logging_errors, mlflow.start_run(experiment_id=experiment, run_name=name) as run:
        mlflow.log_params(params or {"overrides": "none"})
        mlflow.log_metrics(numbers({"training": result["training"], **result["scores"]}))
        mlflow.set_tags({"description": result["description"], "checkpoint": result["checkpoint"]})
        return run.info.run_id


def table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: a row per variant and combination method; ham flagged / spam caught at the threshold."""
    header = (
        "| variant | combination | validation 2012: ham flagged / spam caught | validation modern | probe "
        "| probe: spam caught at 1% ham | probe ROC AUC | probe ECE | test spam F1 / ham blocked (collection) "
        "| test spam F1 (modern) | training s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    rows = []
    for name, result in results.items():
        for method, view in result["scores"].items():
            pairs = [view[s] for s in ("validation sms-collection", "validation modern-synthetic", "probe")]
            rows.append(
                f"| {name} | {method} | "
                + " | ".join(f"{v['ham_flagged']:.3f} / {v['spam_recall']:.3f}" for v in pairs)
                + f" | {view['probe']['spam_recall_at_1pct_ham']:.3f} | {view['probe']['roc_auc']:.4f} "
                f"| {view['probe']['ece']:.3f} | {view['test']['spam_f1']:.4f} / {view['test']['ham_flagged']:.4f} "
                f"| {view['test_modern']['spam_f1']:.4f} | {result['training'].get('seconds', '-')} |"
            )
    return header + "\n" + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(prog="python -m spam_service.pipeline.experiments", description=__doc__)
    parser.add_argument("names", nargs="*", help="variants of experiments.yaml to run (default: all)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=DIR", help="score DIR as NAME")
    args = parser.parse_args(argv)
    variants = load_variants()
    checkpoints = dict(item.split("=", 1) for item in args.checkpoint)
    names = args.names or list(variants)
    unknown = [n for n in [*names, *checkpoints] if n not in variants]
    if unknown:
        raise SystemExit(f"no variant {unknown} in {EXPERIMENTS_FILE}; it has {sorted(variants)}")
    budget = load_params("evaluate")["ham_blocked_budget"]
    results = json.loads(RESULTS_FILE.read_text(encoding="utf-8")) if RESULTS_FILE.is_file() else {}
    for name in names:
        checkpoint = Path(checkpoints[name]) if name in checkpoints else None
        result = run_variant(name, variants[name], checkpoint, budget)
        try:
            result["mlflow_run"] = log_to_mlflow(name, result)
        except RegistryError as exc:
            raise SystemExit(f"experiments: {exc}") from exc
        results[name] = result
        ordered = {n: results[n] for n in variants if n in results}
        REPORTS_DIR.mkdir(exist_ok=True)
        RESULTS_FILE.write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")
        TABLE_FILE.write_text(table(ordered), encoding="utf-8")
        for method, view in result["scores"].items():
            _logger.info(
                "%s (%s): probe spam caught %.3f with %.3f ham flagged; test spam F1 %.4f (MLflow run %s)",
                name,
                method,
                view["probe"]["spam_recall"],
                view["probe"]["ham_flagged"],
                view["test"]["spam_f1"],
                result["mlflow_run"],
            )


if __name__ == "__main__":
    main()
