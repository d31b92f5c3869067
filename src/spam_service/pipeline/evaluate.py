"""Stage `evaluate`: the served model (transformer + baseline, combined as fitted on validation), and each alone.

Writes reports/metrics.json, reports/confusion_matrix.png, reports/classification_report.txt and
reports/errors.jsonl (the test messages the served model gets wrong). In metrics.json the served model's test
metrics are at top level, with 95% bootstrap intervals under `ci95`; `transformer` and `baseline` hold each
model alone, in the same form.

Each inference backend (torch fp32, ONNX Runtime fp32 and every int8 candidate) classifies the test split,
validation and the probe; reports/backends.json holds each one's figures and speed, and the default the export
stage records (`spam_service.pipeline.backend_rule`). The other reports describe that default backend, the one the
service runs.

The combination of transformer and baseline (`evaluate.combination`, `spam_service.model.combination`) is fitted
on torch fp32's validation scores (`calibration`), which calibrates the served probability; `calibration` in
metrics.json gives the fitted weights, the expected calibration error per set and the reliability curve
(reports/reliability.png, with the uncalibrated max of the two for comparison).

The served threshold is the operating point (`spam_service.pipeline.operating_point`): the lowest threshold at
which torch fp32 blocks at most `evaluate.ham_blocked_budget` of the ham of every validation source. serving.json
holds one combination and threshold whatever INFERENCE_BACKEND says, so every backend is judged at this one: what
differs between backends is then what quantisation changes, not where a refitted threshold happens to fall.
Every figure of the served model and the transformer alone is at its threshold (the baseline alone at 0.5);
`operating_point` in metrics.json gives each source's threshold, ham flagged and spam caught per source
(`per_source`: validation's sources, the test splits, the probe), each set at the threshold and at 0.5 with ROC
AUC, average precision and the spam caught at 1% ham flagged, and reports/precision_recall.png and reports/roc.png
draw the curves.

The test split holds the SMS Spam Collection's 20% and the modern synthetic set's (data/modern/): the headline
figures are the collection's, comparable with earlier models; `test_modern` gives the modern part.

Two more views say how the models treat text they have not seen, which matters more than the last 0.01 on the
test split: `test_unseen`, the test messages with no copy in training, and `probe`, a small set of modern SMS
(smishing, parcel and toll scams, one-time codes) written for this project in `data/probe/`.

The reports' figures and files are logged to the model's MLflow run (`spam_service.models.tracking`).
"""

import json
import logging
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from spam_service.model.artifact import int8_candidate_path, onnx_path
from spam_service.model.classifier import Prediction, SpamClassifier, load_baseline
from spam_service.model.combination import ScoreCombination
from spam_service.model.cpu import cpu_description
from spam_service.model.engines import BACKENDS
from spam_service.model.labels import HAM, LABELS, SPAM
from spam_service.model.pass_costs import measure_pass_costs
from spam_service.models.registry import RegistryError
from spam_service.models.tracking import log_evaluation, tracked_run
from spam_service.pipeline.backend_rule import (
    REFERENCE,
    RULE_TEXT,
    RULE_VIEWS,
    choose_default_backend,
    choose_int8,
    shortfalls,
)
from spam_service.pipeline.calibration import (
    CALIBRATION_BINS,
    expected_calibration_error,
    fit_combination,
    plot_reliability,
    reliability,
)
from spam_service.pipeline.dataset import COLLECTION_SOURCE, Example, dedup_key, read_collection, read_jsonl
from spam_service.pipeline.onnx_export import read_int8_candidates
from spam_service.pipeline.operating_point import choose_threshold_by_source, labels_at, plot_curves, view_at
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
    RELIABILITY_PLOT,
    REPORTS_DIR,
    ROC_PLOT,
    split_path,
)
from spam_service.pipeline.scores import binary_metrics, metrics_with_intervals

_logger = logging.getLogger(__name__)

SERVING_BATCH_SIZE = 32  # speed is measured at the service's default INFERENCE_BATCH_SIZE
SPEED_TEXTS = 640
WARM_UP_TEXTS = ["warm-up", "warm-up: a longer text, so that a padded pass runs as well"]
SPEED_ROUNDS = 3


Combinations = dict[str, ScoreCombination]  # "combined" (with the baseline) and "transformer" (without it)


def view_scores(predictions: list[Prediction], combinations: Combinations) -> dict[str, list[float]]:
    """The served probability of the combination, of the transformer alone (what COMBINE_BASELINE=false serves,
    calibrated alike) and of the baseline alone."""
    combined, alone = combinations["combined"], combinations["transformer"]
    return {
        "model": [combined.combine(p.transformer_probability, p.baseline_probability) for p in predictions],
        "transformer": [alone.combine(p.transformer_probability, None) for p in predictions],
        "baseline": [p.baseline_probability or 0.0 for p in predictions],
    }


def verdicts(
    predictions: list[Prediction], thresholds: dict[str, float], combinations: Combinations
) -> dict[str, list[str]]:
    """Labels of the served combination and of each model alone, each at its own threshold."""
    scores = view_scores(predictions, combinations)
    return {name: labels_at(values, thresholds[name]) for name, values in scores.items()}


def fit_combinations(validation: list[Example], predictions: list[Prediction], method: str) -> Combinations:
    """The served combination (`evaluate.combination`) and the transformer's own calibration, fitted on
    validation."""
    truth = [e.label for e in validation]
    transformer = [p.transformer_probability for p in predictions]
    baseline = [p.baseline_probability or 0.0 for p in predictions]
    return {
        "combined": fit_combination(method, truth, transformer, baseline),
        "transformer": fit_combination("transformer", truth, transformer, baseline),
    }


def served_predictions(predictions: list[Prediction], combination: ScoreCombination, threshold: float) -> list:
    """The predictions as the service will make them: the fitted combination's probability and label."""
    return [
        replace(
            p,
            spam_probability=(probability := combination.combine(p.transformer_probability, p.baseline_probability)),
            label=SPAM if probability >= threshold else HAM,
        )
        for p in predictions
    ]


def uncalibrated_max(predictions: list[Prediction]) -> list[float]:
    """The score served before combinations were fitted, max(p_transformer, p_baseline): calibration's reference."""
    return [max(p.transformer_probability, p.baseline_probability or 0.0) for p in predictions]


def per_source(sets: dict[str, list[tuple[Example, Prediction]]], threshold: float) -> dict[str, dict]:
    """Per set: its ham and spam counts, the share of its ham flagged and of its spam caught at `threshold`."""
    table = {}
    for name, rows in sets.items():
        truth = [e.label for e, _ in rows]
        at = binary_metrics(truth, labels_at([p.spam_probability for _, p in rows], threshold))
        table[name] = {
            "n_ham": len(truth) - truth.count(SPAM),
            "n_spam": truth.count(SPAM),
            "ham_flagged": at["ham_blocked_rate"],
            "spam_caught": at["spam_recall"],
        }
    return table


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
    probe_predictions: list[Prediction]
    summary: dict  # its entry of reports/backends.json (texts_per_s added by measure_speeds)


def load_backend(backend: str, onnx_file: Path | None, max_tokens: int, baseline: Any) -> SpamClassifier:
    """A backend loaded as one inference worker of the service runs it (one thread, its pass costs measured),
    combined with `baseline` (loaded once, shared)."""
    classifier = SpamClassifier.load(
        CHECKPOINT_DIR,
        backend=backend,
        max_tokens=max_tokens,
        batch_size=SERVING_BATCH_SIZE,
        threads=1,
        combine_baseline=False,
        onnx_file=onnx_file,
    )
    classifier.baseline = baseline
    classifier.predict(WARM_UP_TEXTS)  # the first passes allocate
    classifier.pass_costs = measure_pass_costs(classifier)
    return classifier


def batch_difference(classifier: SpamClassifier, texts: list[str]) -> float:
    """The largest change of a text's transformer probability between classifying it alone and among `texts`
    (planned into passes as the service plans a batch)."""
    together, _, _ = classifier.spam_probabilities(texts)
    return max(abs(classifier.spam_probabilities([text])[0][0] - p) for text, p in zip(texts, together, strict=True))


def view_summary(
    examples: list[Example],
    predictions: list[Prediction],
    thresholds: dict[str, float],
    combinations: Combinations,
    keys: tuple[str, ...] = ("spam_f1", "spam_recall", "ham_blocked_rate"),
) -> dict:
    """`keys` of `binary_metrics` for the served combination and the transformer alone on one set."""
    truth = [e.label for e in examples]
    labels = verdicts(predictions, thresholds, combinations)
    return {
        view: {key: binary_metrics(truth, labels[name])[key] for key in keys}
        for view, name in (("served", "model"), ("transformer", "transformer"))
    }


@dataclass(frozen=True)
class OperatingPoint:
    """What serving.json serves whatever the backend: the combinations and thresholds fitted on torch fp32's
    validation scores, and the budget the thresholds keep."""

    combinations: Combinations
    thresholds: dict[str, float]  # per view of `view_scores`
    source_thresholds: dict[str, float]  # each validation source's own threshold for the served combination
    budget: float

    @classmethod
    def fit(
        cls, validation: list[Example], predictions: list[Prediction], budget: float, method: str
    ) -> "OperatingPoint":
        """The served combination and the transformer alone each at the lowest threshold within the budget on
        every source of validation (`choose_threshold_by_source`); the baseline alone, never served, at 0.5."""
        combinations = fit_combinations(validation, predictions, method)
        truth, sources = [e.label for e in validation], [e.source for e in validation]
        scores = view_scores(predictions, combinations)
        served, source_thresholds = choose_threshold_by_source(truth, scores["model"], sources, budget)
        alone, _ = choose_threshold_by_source(truth, scores["transformer"], sources, budget)
        thresholds = {"model": served, "transformer": alone, "baseline": 0.5}
        return cls(combinations, thresholds, source_thresholds, budget)


def classify(classifier: SpamClassifier, *sets: list[Example]) -> list[list[Prediction]]:
    return [classifier.predict([e.text for e in examples]) for examples in sets]


def sources_over_budget(examples: list[Example], predictions: list[Prediction], budget: float) -> dict:
    """The sources whose ham the served labels flag beyond the budget: {source: share of its ham flagged}."""
    over = {}
    for source in sorted({e.source for e in examples}):
        ham = [p.label for e, p in zip(examples, predictions, strict=True) if e.source == source and e.label == HAM]
        if ham and (rate := ham.count(SPAM) / len(ham)) > budget:
            over[source] = round(rate, 6)
    return over


def run_backend(
    classifier: SpamClassifier,
    raw: list[list[Prediction]],
    test: list[Example],
    validation: list[Example],
    probe: list[Example],
    point: OperatingPoint,
) -> BackendRun:
    """Judge one backend's raw predictions of the test split, validation and the probe (`classify`) at the served
    operating point."""
    combinations, thresholds = point.combinations, point.thresholds
    classifier.combination, classifier.spam_threshold = combinations["combined"], thresholds["model"]
    predictions, validation_predictions, probe_predictions = (
        served_predictions(view, combinations["combined"], thresholds["model"]) for view in raw
    )
    summary: dict[str, Any] = view_summary(
        test, predictions, thresholds, combinations, ("spam_f1", "spam_precision", "spam_recall")
    )
    for view, name in (("served", "model"), ("transformer", "transformer")):
        summary[view]["threshold"] = thresholds[name]
    summary["views"] = {
        name: view_summary(examples, view_predictions, thresholds, combinations)
        for name, examples, view_predictions in (
            ("validation", validation, validation_predictions),
            ("probe", probe, probe_predictions),
            ("test", test, predictions),
        )
    }
    summary["over_budget"] = sources_over_budget(validation, validation_predictions, point.budget)
    summary["batch_max_difference"] = float(f"{batch_difference(classifier, [e.text for e in validation][:64]):.3g}")
    return BackendRun(classifier, predictions, validation_predictions, probe_predictions, summary)


def measure_speeds(classifiers: dict[str, SpamClassifier], texts: list[str], rounds: int = SPEED_ROUNDS) -> dict:
    """Texts/s of each classifier's tokenizer and network (no baseline: the same for all) on one thread, over
    `texts` in service-sized batches; the best of `rounds`, taken in turn, so that a busy moment of the machine
    does not favour one backend."""
    batches = [texts[start : start + SERVING_BATCH_SIZE] for start in range(0, len(texts), SERVING_BATCH_SIZE)]
    best = dict.fromkeys(classifiers, 0.0)
    for _ in range(rounds):
        for name, classifier in classifiers.items():
            started = time.perf_counter()
            for batch in batches:
                classifier.spam_probabilities(batch)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    return {name: round(value, 1) for name, value in best.items()}


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
    baseline = load_baseline(CHECKPOINT_DIR, BASELINE_PATH)
    recipes = read_int8_candidates(ONNX_OUT_DIR)
    files = {"torch": None, "onnx": onnx_path(CHECKPOINT_DIR, "onnx", ONNX_OUT_DIR)}
    files.update({name: int8_candidate_path(ONNX_OUT_DIR, name) for name in recipes})
    classifiers = {
        name: load_backend(name if name in BACKENDS else "onnx-int8", path, max_tokens, baseline)
        for name, path in files.items()
    }
    raw = {name: classify(classifier, test, validation, probe) for name, classifier in classifiers.items()}
    point = OperatingPoint.fit(validation, raw[REFERENCE][1], budget, params["combination"])
    runs = {
        name: run_backend(classifier, raw[name], test, validation, probe, point)
        for name, classifier in classifiers.items()
    }
    speed_texts = random.Random(params["seed"]).sample([e.text for e in test], min(len(test), SPEED_TEXTS))
    for name, texts_per_s in measure_speeds(classifiers, speed_texts).items():
        runs[name].summary["texts_per_s"] = texts_per_s
    reference = runs[REFERENCE].summary
    for name, run in runs.items():
        run.summary.update(recipes.get(name, {}))
        run.summary["shortfalls"] = [] if name == REFERENCE else shortfalls(run.summary, reference)
    candidates = {name: runs[name].summary for name in recipes}
    int8_recipe = choose_int8(candidates, reference)
    results = {"torch": reference, "onnx": runs["onnx"].summary, "onnx-int8": candidates[int8_recipe]}
    default = choose_default_backend(results)
    chosen = runs[int8_recipe if default == "onnx-int8" else default]
    classifier, predictions, thresholds = chosen.classifier, chosen.predictions, point.thresholds
    validation_predictions, probe_predictions = chosen.validation_predictions, chosen.probe_predictions
    combinations = point.combinations
    modern_predictions = classifier.predict([e.text for e in test_modern])
    labels = verdicts(predictions, thresholds, combinations)
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
        "test_modern": compare_on(test_modern, verdicts(modern_predictions, thresholds, combinations)),
        "probe": compare_on(probe, verdicts(probe_predictions, thresholds, combinations)),
        "operating_point": {
            "ham_blocked_budget": params["ham_blocked_budget"],
            "chosen_on": f"validation, {REFERENCE} fp32's scores, every source within the budget",
            "thresholds": {"combined": thresholds["model"], "transformer": thresholds["transformer"]},
            "validation_source_thresholds": point.source_thresholds,
            "per_source": per_source(
                {
                    **{
                        f"validation {source}": [
                            (e, p)
                            for e, p in zip(validation, validation_predictions, strict=True)
                            if e.source == source
                        ]
                        for source in sorted({e.source for e in validation})
                    },
                    "test sms-collection": list(zip(test, predictions, strict=True)),
                    "test modern-synthetic": list(zip(test_modern, modern_predictions, strict=True)),
                    "probe": list(zip(probe, probe_predictions, strict=True)),
                },
                thresholds["model"],
            ),
            **{
                view: view_at(view_truth, scores, thresholds["model"])
                for view, (view_truth, scores) in served_scores.items()
            },
        },
    }
    metrics["calibration"] = {
        "combination": {name: combination.as_dict() for name, combination in combinations.items()},
        "fitted_on": f"validation, {REFERENCE} fp32's scores",
        "bins": CALIBRATION_BINS,
        "ece": {view: expected_calibration_error(*scores) for view, scores in served_scores.items()},
        "ece_uncalibrated_max": {
            "validation": expected_calibration_error(
                served_scores["validation"][0], uncalibrated_max(validation_predictions)
            )
        },
        "reliability": {view: reliability(*scores) for view, scores in served_scores.items()},
    }
    REPORTS_DIR.mkdir(exist_ok=True)
    METRICS_REPORT.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    backends = {
        "default_backend": default,
        "int8_recipe": int8_recipe,
        "rule": RULE_TEXT,
        "machine": cpu_description(),
        "speed": f"texts/s of tokenizer and network on one thread (one inference worker), {len(speed_texts)} test "
        f"texts in batches of {SERVING_BATCH_SIZE}, best of {SPEED_ROUNDS} rounds taken in turn",
        "batch_size": SERVING_BATCH_SIZE,
        "backends": results,
        "int8_candidates": candidates,
    }
    BACKENDS_REPORT.write_text(json.dumps(backends, indent=2) + "\n", encoding="utf-8")

    plot_curves(served_scores, thresholds["model"], PRECISION_RECALL_PLOT, ROC_PLOT)
    plot_reliability(
        served_scores,
        ("validation", served_scores["validation"][0], uncalibrated_max(validation_predictions)),
        RELIABILITY_PLOT,
    )
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
    for name, run in runs.items():
        result, rule_views = run.summary, [run.summary["views"][view]["served"] for view in RULE_VIEWS]
        chosen_mark = "  <- default" if run is chosen else ("  <- onnx-int8" if name == int8_recipe else "")
        _logger.info(
            "%-20s served spam F1 / ham blocked: %s | test spam F1 %.4f | %6.1f texts/s | batch diff %.2g%s%s",
            name,
            ", ".join(
                f"{v} {r['spam_f1']:.4f} / {r['ham_blocked_rate']:.4f}"
                for v, r in zip(RULE_VIEWS, rule_views, strict=True)
            ),
            result["served"]["spam_f1"],
            result["texts_per_s"],
            result["batch_max_difference"],
            chosen_mark,
            f"  (fails: {'; '.join(result['shortfalls'])})" if result["shortfalls"] else "",
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
