"""Stage `evaluate`: the fine-tuned model and the baseline on the held-out test split.

Writes reports/metrics.json (served model at top level, baseline under `baseline`, 95% bootstrap intervals
under `ci95`), reports/confusion_matrix.png, reports/classification_report.txt and reports/errors.jsonl (the
test messages the served model gets wrong).

Two more views say how the models treat text they have not seen, which matters more than the last 0.01 on the
test split: `test_unseen`, the test messages with no copy in training, and `probe`, a small set of modern SMS
(smishing, parcel and toll scams, one-time codes) written for this project in `data/probe/`.
"""

import json
import logging
from pathlib import Path

import joblib

from spam_service.classifier import SpamClassifier
from spam_service.labels import LABELS
from spam_service.pipeline.baseline import BASELINE_PATH
from spam_service.pipeline.dataset import Example, dedup_key, read_collection, read_jsonl
from spam_service.pipeline.metrics import binary_metrics, metrics_with_intervals
from spam_service.pipeline.params import load_params
from spam_service.pipeline.prepare import PREPARED_DIR
from spam_service.pipeline.train import CHECKPOINT_DIR
from spam_service.text import normalize_text

_logger = logging.getLogger(__name__)

REPORTS_DIR = Path("reports")
PROBE_PATH = Path("data/probe/modern_sms.tsv")


def compare_on(examples: list[Example], served: list[str], baseline: list[str]) -> dict:
    """Both models' metrics (no intervals) on a subset, with its size."""
    truth = [e.label for e in examples]
    return {
        "n": len(truth),
        "n_spam": truth.count("spam"),
        "model": binary_metrics(truth, served),
        "baseline": binary_metrics(truth, baseline),
    }


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


def main() -> None:
    from sklearn.metrics import classification_report, confusion_matrix

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("evaluate")
    max_tokens = load_params("export")["max_tokens"]
    test = read_jsonl(PREPARED_DIR / "test.jsonl")
    probe = read_collection(PROBE_PATH)
    texts = [e.text for e in test]
    truth = [e.label for e in test]

    classifier = SpamClassifier.load(CHECKPOINT_DIR, max_tokens=max_tokens, batch_size=64)
    baseline_model = joblib.load(BASELINE_PATH)
    predictions = classifier.predict(texts)
    served = [p.label for p in predictions]
    baseline = list(baseline_model.predict([normalize_text(t) for t in texts]))

    seen = {dedup_key(e.text) for e in read_jsonl(PREPARED_DIR / "train.jsonl")}
    unseen = [i for i, e in enumerate(test) if dedup_key(e.text) not in seen]
    probe_texts = [e.text for e in probe]

    bootstrap = {"samples": params["bootstrap_samples"], "seed": params["seed"]}
    metrics = {
        **metrics_with_intervals(truth, served, **bootstrap),
        "n_test": len(truth),
        "n_test_spam": truth.count("spam"),
        "baseline": metrics_with_intervals(truth, baseline, **bootstrap),
        "test_unseen": compare_on(
            [test[i] for i in unseen], [served[i] for i in unseen], [baseline[i] for i in unseen]
        ),
        "probe": compare_on(
            probe,
            [p.label for p in classifier.predict(probe_texts)],
            list(baseline_model.predict([normalize_text(t) for t in probe_texts])),
        ),
    }
    REPORTS_DIR.mkdir(exist_ok=True)
    (REPORTS_DIR / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")

    matrices = {
        "fine-tuned transformer": confusion_matrix(truth, served, labels=list(LABELS)).tolist(),
        "TF-IDF baseline": confusion_matrix(truth, baseline, labels=list(LABELS)).tolist(),
    }
    plot_confusion_matrices(matrices, REPORTS_DIR / "confusion_matrix.png")
    report = "\n".join(
        f"== {title} ==\n{classification_report(truth, labels, labels=list(LABELS), digits=4)}"
        for title, labels in (("fine-tuned transformer", served), ("TF-IDF baseline", baseline))
    )
    (REPORTS_DIR / "classification_report.txt").write_text(report, encoding="utf-8")
    with (REPORTS_DIR / "errors.jsonl").open("w", encoding="utf-8") as handle:
        for example, prediction in zip(test, predictions, strict=True):
            if prediction.label != example.label:
                row = {"label": example.label, "spam_probability": round(prediction.spam_probability, 4)}
                handle.write(json.dumps({**row, "text": example.text}, ensure_ascii=False) + "\n")
    _logger.info(
        "test: transformer spam F1 %.4f accuracy %.4f | baseline spam F1 %.4f accuracy %.4f",
        metrics["spam_f1"],
        metrics["accuracy"],
        metrics["baseline"]["spam_f1"],
        metrics["baseline"]["accuracy"],
    )
    for view in ("test_unseen", "probe"):
        _logger.info(
            "%s (%d, %d spam): transformer spam F1 %.4f recall %.4f | baseline spam F1 %.4f recall %.4f",
            view,
            metrics[view]["n"],
            metrics[view]["n_spam"],
            metrics[view]["model"]["spam_f1"],
            metrics[view]["model"]["spam_recall"],
            metrics[view]["baseline"]["spam_f1"],
            metrics[view]["baseline"]["spam_recall"],
        )


if __name__ == "__main__":
    main()
