"""Stage `evaluate`: the served model (transformer + baseline combined), and each of the two alone.

Writes reports/metrics.json, reports/confusion_matrix.png, reports/classification_report.txt and
reports/errors.jsonl (the test messages the served model gets wrong). In metrics.json the served model's test
metrics are at top level, with 95% bootstrap intervals under `ci95`; `transformer` and `baseline` hold each
model alone, in the same form.

Each inference backend (torch fp32, ONNX Runtime fp32 and int8) classifies the test split; reports/backends.json
holds each one's spam F1 (served and transformer alone) and speed, and the default the export stage records:
the fastest backend whose test spam F1, served and alone, is within 0.005 of torch fp32's, each backend at its own
operating point (below). The other reports
describe that default backend, the one the service runs.

The served threshold is the operating point (`spam_service.pipeline.operating_point`): the lowest threshold that
blocks at most `evaluate.ham_blocked_budget` of validation ham. Every figure of the served model and the
transformer alone is at its threshold (the baseline alone at 0.5); `operating_point` in metrics.json gives each
set at that threshold and at 0.5 with ROC AUC, average precision and the spam caught at 1% ham flagged, and
reports/precision_recall.png and reports/roc.png draw the curves.

The test split holds the SMS Spam Collection's 20% and the modern synthetic set's (data/modern/): the headline
figures are the collection's, comparable with earlier models; `test_modern` gives the modern part.

Two more views say how the models treat text they have not seen, which matters more than the last 0.01 on the
test split: `test_unseen`, the test messages with no copy in training, and `probe`, a small set of modern SMS
(smishing, parcel and toll scams, one-time codes) written for this project in `data/probe/`.

The reports' figures and files are logged to the model's MLflow run (`spam_service.models.tracking`).
"""

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from spam_service.model.classifier import Prediction, SpamClassifier
from spam_service.model.engines import BACKENDS
from spam_service.model.labels import LABELS, SPAM
from spam_service.models.registry import RegistryError
from spam_service.models.tracking import log_evaluation, tracked_run
from spam_service.pipeline.dataset import COLLECTION_SOURCE, Example, dedup_key, read_collection, read_jsonl
from spam_service.pipeline.operating_point import choose_threshold, labels_at, plot_curves, view_at
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import (
    BACKENDS_REPORT,
    BASELINE_PATH,
    CHECKPOINT_DIR,
    CLASSIFICATION_REPORT,
    CONFUSION_MATRIX_PLOT,
    ERRORS_REPORT,
    METRICS_REPORT,
    ONNX_OUT_DIR,
    PRECISION_RECALL_PLOT,
    PROBE_PATH,
    PROBE_PREDICTIONS,
    REPORTS_DIR,
    ROC_PLOT,
    split_path,
)
from spam_service.pipeline.scores import binary_metrics, metrics_with_intervals

_logger = logging.getLogger(__name__)

F1_TOLERANCE = 0.005  # how much test spam F1 a faster backend may give up against torch fp32
SERVING_BATCH_SIZE = 32  # speed is measured at the service's default INFERENCE_BATCH_SIZE


def verdicts(predictions: list[Prediction], thresholds: dict[str, float]) -> dict[str, list[str]]:
    """Labels of the served combination and of each model alone, each at its own threshold."""
    scores = {
        "model": [p.spam_probability for p in predictions],
        "transformer": [p.transformer_probability for p in predictions],
        "baseline": [p.baseline_probability or 0.0 for p in predictions],
    }
    return {name: labels_at(values, thresholds[name]) for name, values in scores.items()}


def served_thresholds(validation: list[Example], predictions: list[Prediction], budget: float) -> dict[str, float]:
    """Each view's threshold: the served combination and the transformer alone (what COMBINE_BASELINE=false
    serves) at the ham-blocked budget on validation; the baseline alone, never served, at 0.5."""
    truth = [e.label for e in validation]
    return {
        "model": choose_threshold(truth, [p.spam_probability for p in predictions], budget),
        "transformer": choose_threshold(truth, [p.transformer_probability for p in predictions], budget),
        "baseline": 0.5,
    }


def split_by_source(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(the SMS Spam Collection's messages, the modern synthetic ones): the headline test figures stay on the
    collection's split, comparable with every earlier model and with published results."""
    collection = [e for e in examples if e.source == COLLECTION_SOURCE]
    return collection, [e for e in examples if e.source != COLLECTION_SOURCE]


def write_predictions(path: Path, rows: Iterable[tuple[Example, Prediction]]) -> None:
    """JSON lines of each message's true label, its scores (served, transformer, baseline) and text."""
    with path.open("w", encoding="utf-8") as handle:
        for example, prediction in rows:
            row = {
                "label": example.label,
                "spam_probability": round(prediction.spam_probability, 4),
                "transformer": round(prediction.transformer_probability, 4),
                "baseline": round(prediction.baseline_probability or 0.0, 4),
                "text": example.text,
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def compare_on(examples: list[Example], labels: dict[str, list[str]]) -> dict:
    """Each model's metrics (no intervals) on a subset, with its size."""
    truth = [e.label for e in examples]
    return {
        "n": len(truth),
        "n_spam": truth.count(SPAM),
        **{name: binary_metrics(truth, predicted) for name, predicted in labels.items()},
    }


@dataclass(frozen=True)
class BackendRun:
    classifier: SpamClassifier
    predictions: list[Prediction]  # of the test split
    validation_predictions: list[Prediction]
    thresholds: dict[str, float]  # per view, chosen on validation (served_thresholds)
    summary: dict  # spam F1/precision/recall served and transformer alone, texts/s


def run_backend(
    backend: str, test: list[Example], validation: list[Example], max_tokens: int, budget: float
) -> BackendRun:
    """Load one backend as the service would, classify the test split, and measure it: spam F1 (served and
    transformer alone) at the backend's own operating point (each backend scores a little differently, so each is
    judged at the threshold it would serve) and texts/s over the split in batches of the serving size, after a
    warm-up."""
    texts, truth = [e.text for e in test], [e.label for e in test]
    classifier = SpamClassifier.load(
        CHECKPOINT_DIR,
        backend=backend,
        max_tokens=max_tokens,
        batch_size=SERVING_BATCH_SIZE,
        baseline_path=BASELINE_PATH,
        onnx_dir=ONNX_OUT_DIR,
    )
    classifier.predict(texts[: 2 * SERVING_BATCH_SIZE])
    started = time.perf_counter()
    predictions = classifier.predict(texts)
    seconds = time.perf_counter() - started
    validation_predictions = classifier.predict([e.text for e in validation])
    thresholds = served_thresholds(validation, validation_predictions, budget)
    labels = verdicts(predictions, thresholds)
    summary = {
        view: {
            **{key: binary_metrics(truth, labels[name])[key] for key in ("spam_f1", "spam_precision", "spam_recall")},
            "threshold": thresholds[name],
        }
        for view, name in (("served", "model"), ("transformer", "transformer"))
    }
    return BackendRun(
        classifier,
        predictions,
        validation_predictions,
        thresholds,
        {**summary, "texts_per_s": round(len(texts) / seconds, 1)},
    )


def choose_default_backend(results: dict[str, dict]) -> str:
    """The fastest backend within F1_TOLERANCE of torch fp32, both served and alone (so either COMBINE_BASELINE
    setting keeps its accuracy)."""
    reference = results["torch"]
    eligible = [
        backend
        for backend, result in results.items()
        if all(result[v]["spam_f1"] >= reference[v]["spam_f1"] - F1_TOLERANCE for v in ("served", "transformer"))
    ]
    return max(eligible, key=lambda backend: results[backend]["texts_per_s"])


def plot_confusion_matrices(matrices: dict[str, list[list[int]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 3.8))
    for axis, (title, matrix) in zip(axes, matrices.items(), strict=True):
        axis.imshow(matrix, cmap="Blues")
        for row in range(2):
            for column in range(2):
                value = matrix[row][column]
                color = "white" if value > max(map(max, matrix)) / 2 else "black"
                axis.text(column, row, str(value), ha="center", va="center", color=color, fontsize=13)
        axis.set(xticks=[0, 1], yticks=[0, 1], xticklabels=LABELS, yticklabels=LABELS, title=title)
        axis.set_xlabel("predicted")
        axis.set_ylabel("true")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_reports() -> None:
    """Classify the test split and the probe with every backend; write the reports (see the module docstring)."""
    from sklearn.metrics import classification_report, confusion_matrix

    params = load_params("evaluate")
    max_tokens = load_params("export")["max_tokens"]
    test, test_modern = split_by_source(read_jsonl(split_path("test")))
    validation = read_jsonl(split_path("validation"))
    probe = read_collection(PROBE_PATH)
    truth = [e.label for e in test]

    budget = params["ham_blocked_budget"]
    runs = {backend: run_backend(backend, test, validation, max_tokens, budget) for backend in BACKENDS}
    default = choose_default_backend({backend: run.summary for backend, run in runs.items()})
    chosen = runs[default]
    classifier, predictions, thresholds = chosen.classifier, chosen.predictions, chosen.thresholds
    validation_predictions = chosen.validation_predictions
    probe_predictions = classifier.predict([e.text for e in probe])
    modern_predictions = classifier.predict([e.text for e in test_modern])
    labels = verdicts(predictions, thresholds)
    seen = {dedup_key(e.text) for e in read_jsonl(split_path("train"))}
    unseen = [i for i, e in enumerate(test) if dedup_key(e.text) not in seen]

    served_scores = {
        "validation": ([e.label for e in validation], [p.spam_probability for p in validation_predictions]),
        "test": (truth, [p.spam_probability for p in predictions]),
        "test_modern": ([e.label for e in test_modern], [p.spam_probability for p in modern_predictions]),
        "probe": ([e.label for e in probe], [p.spam_probability for p in probe_predictions]),
    }
    bootstrap = {"samples": params["bootstrap_samples"], "seed": params["seed"]}
    metrics = {
        **metrics_with_intervals(truth, labels["model"], **bootstrap),
        "backend": default,
        "n_test": len(truth),
        "n_test_spam": truth.count(SPAM),
        "threshold": thresholds["model"],
        "transformer": metrics_with_intervals(truth, labels["transformer"], **bootstrap),
        "baseline": metrics_with_intervals(truth, labels["baseline"], **bootstrap),
        "test_unseen": compare_on(
            [test[i] for i in unseen], {name: [v[i] for i in unseen] for name, v in labels.items()}
        ),
        "test_modern": compare_on(test_modern, verdicts(modern_predictions, thresholds)),
        "probe": compare_on(probe, verdicts(probe_predictions, thresholds)),
        "operating_point": {
            "ham_blocked_budget": params["ham_blocked_budget"],
            "chosen_on": "validation",
            "thresholds": {"combined": thresholds["model"], "transformer": thresholds["transformer"]},
            **{
                view: view_at(view_truth, scores, thresholds["model"])
                for view, (view_truth, scores) in served_scores.items()
            },
        },
    }
    REPORTS_DIR.mkdir(exist_ok=True)
    METRICS_REPORT.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    backends = {
        "default_backend": default,
        "rule": f"fastest backend whose test spam F1 (served and transformer alone, each at its own operating "
        f"point) is within {F1_TOLERANCE} of torch fp32's",
        "batch_size": SERVING_BATCH_SIZE,
        "backends": {backend: run.summary for backend, run in runs.items()},
    }
    BACKENDS_REPORT.write_text(json.dumps(backends, indent=2) + "\n", encoding="utf-8")

    plot_curves(served_scores, thresholds["model"], PRECISION_RECALL_PLOT, ROC_PLOT)
    write_predictions(PROBE_PREDICTIONS, zip(probe, probe_predictions, strict=True))

    titles = {"model": "served (combined)", "transformer": "transformer alone", "baseline": "TF-IDF baseline alone"}
    matrices = {titles[n]: confusion_matrix(truth, v, labels=list(LABELS)).tolist() for n, v in labels.items()}
    plot_confusion_matrices(matrices, CONFUSION_MATRIX_PLOT)
    report = "\n".join(
        f"== {titles[name]} ==\n{classification_report(truth, predicted, labels=list(LABELS), digits=4)}"
        for name, predicted in labels.items()
    )
    CLASSIFICATION_REPORT.write_text(report, encoding="utf-8")
    misses = zip(test, predictions, labels["model"], strict=True)
    write_predictions(ERRORS_REPORT, ((e, p) for e, p, label in misses if label != e.label))
    views = {
        "test": {name: metrics if name == "model" else metrics[name] for name in labels},
        "test_unseen": metrics["test_unseen"],
        "test_modern": metrics["test_modern"],
        "probe": metrics["probe"],
    }
    for backend, run in runs.items():
        result = run.summary
        _logger.info(
            "backend %-9s spam F1 served %.4f, transformer %.4f; %6.1f texts/s%s",
            backend,
            result["served"]["spam_f1"],
            result["transformer"]["spam_f1"],
            result["texts_per_s"],
            "  <- default" if backend == default else "",
        )
    operating_point = metrics["operating_point"]
    _logger.info(
        "threshold %.4f (transformer alone %.4f): the lowest blocking at most %.2f%% of validation ham",
        thresholds["model"],
        thresholds["transformer"],
        100 * params["ham_blocked_budget"],
    )
    for view in served_scores:
        at = operating_point[view]["at_threshold"]
        _logger.info(
            "%-11s at the threshold: spam caught %.4f, ham flagged %.4f | ROC AUC %.4f, spam caught at 1%% ham %.4f",
            view,
            at["spam_recall"],
            at["ham_blocked_rate"],
            operating_point[view]["roc_auc"],
            operating_point[view]["spam_recall_at_1pct_ham"],
        )
    for view, data in views.items():
        scores = [data[m][key] for m in ("model", "transformer", "baseline") for key in ("spam_f1", "spam_recall")]
        _logger.info(
            "%-11s spam F1 / recall: served %.4f / %.4f | transformer %.4f / %.4f | baseline %.4f / %.4f",
            view,
            *scores,
        )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        with tracked_run("evaluate") as run:
            write_reports()
            log_evaluation(run)
    except RegistryError as exc:
        raise SystemExit(f"evaluate: {exc}") from exc


if __name__ == "__main__":
    main()
