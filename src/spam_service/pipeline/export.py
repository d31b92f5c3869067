"""Stage `export`: the serving artifact in weights/<name>/.

A Hugging Face directory (config, tokenizer, safetensors) that `AutoModelForSequenceClassification` and
`AutoTokenizer` load as they are, the same network for ONNX Runtime (`onnx/model.onnx`, `onnx/model.int8.onnx`),
the TF-IDF baseline the service combines with it (`baseline.joblib`), `serving.json` (name, version, token limit,
default inference backend, metrics, data provenance) and a model card.

Its servable subset is then logged to the model's MLflow run and registered as a new version of `spam-classifier`
(`spam_service.models.publication`, docs/lifecycle.md).
"""

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from spam_service.model.artifact import (
    BASELINE_FILE,
    MODEL_CARD_FILE,
    ONNX_DIR,
    ONNX_FILES,
    TOKENIZER_CONFIG_FILE,
    weights_digest,
    write_serving_metadata,
)
from spam_service.model.labels import LABELS
from spam_service.models.publication import publish_export
from spam_service.models.registry import RegistryError
from spam_service.models.tracking import RUN_RECORD_FILE, tracked_run
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import (
    BACKENDS_REPORT,
    BASELINE_PATH,
    CHECKPOINT_DIR,
    METRICS_REPORT,
    ONNX_OUT_DIR,
    TRAINING_SUMMARY_FILE,
    export_dir,
    raw_collection,
)
from spam_service.pipeline.scores import METRIC_NAMES

_logger = logging.getLogger(__name__)

DATA_PROVENANCE = {
    "name": "SMS Spam Collection v.1",
    "source": "https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
    "licence": "CC BY 4.0",
    "citation": (
        "T. A. Almeida, J. M. Gomez Hidalgo, A. Yamakami. Contributions to the Study of SMS Spam Filtering: "
        "New Collection and Results. DocEng'11, 2011."
    ),
}

MODELS = ("model", "transformer", "baseline")


def file_md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _with_interval(metrics: dict[str, Any], name: str) -> str:
    interval = metrics["ci95"][name]
    return f"{metrics[name]:.4f} ({interval['low']:.4f}-{interval['high']:.4f})"


def backends_table(backends: dict[str, Any]) -> str:
    return "\n".join(
        f"| {name}{' (default)' if name == backends['default_backend'] else ''} | {r['served']['spam_f1']:.4f} "
        f"| {r['transformer']['spam_f1']:.4f} | {r['texts_per_s']:.0f} |"
        for name, r in backends["backends"].items()
    )


def operating_row(name: str, view: dict[str, Any]) -> str:
    at, half = view["at_threshold"], view["at_0.5"]
    return (
        f"| {name} ({view['n']}, {view['n_spam']} spam) | {at['spam_recall']:.4f} | {at['ham_blocked_rate']:.4f} "
        f"| {half['spam_recall']:.4f} / {half['ham_blocked_rate']:.4f} | {view['roc_auc']:.4f} "
        f"| {view['spam_recall_at_1pct_ham']:.4f} |"
    )


def model_card(
    metadata: dict[str, Any], metrics: dict[str, Any], training: dict[str, Any], backends: dict[str, Any]
) -> str:
    rows = "\n".join(
        f"| {name} | {_with_interval(metrics, name)} | {_with_interval(metrics['transformer'], name)} "
        f"| {_with_interval(metrics['baseline'], name)} |"
        for name in METRIC_NAMES
    )
    views = "\n".join(
        f"| {title} ({metrics[view]['n']}, {metrics[view]['n_spam']} spam) | "
        + " | ".join(f"{metrics[view][m]['spam_recall']:.3f} / {metrics[view][m]['spam_f1']:.3f}" for m in MODELS)
        + " |"
        for view, title in (("test_unseen", "test messages unseen in training"), ("probe", "modern SMS probe"))
    )
    operating = metrics["operating_point"]
    thresholds = operating["thresholds"]
    operating_rows = "\n".join(operating_row(view, operating[view]) for view in ("validation", "test", "probe"))
    data = metadata["data"]
    fp32, int8 = (f"{ONNX_DIR}/{ONNX_FILES[backend]}" for backend in ("onnx", "onnx-int8"))
    return f"""# {metadata["name"]} ({metadata["version"]})

Spam/ham classifier for SMS-like short messages: `{metadata["base_model"]}` fine-tuned as a two-class
sequence classifier (labels `ham`, `spam`) by this repository's DVC pipeline (`dvc repro`), combined with a
TF-IDF (word and character n-grams) logistic regression: spam probability = max of the two. The baseline can only
add spam verdicts, so the transformer's recall on unfamiliar messages is kept.

## Use
Served by `spam_service` (see the repository README). The transformer loads with Hugging Face `AutoTokenizer`
and `AutoModelForSequenceClassification`, the baseline with `joblib.load("{BASELINE_FILE}")` (a pickle: load it
only from a directory you trust). `{fp32}` (fp32) and `{int8}` (dynamic int8) are the same
network for ONNX Runtime, inputs {{input_ids, attention_mask, token_type_ids}} as the tokenizer returns them,
output `logits`. Apply `spam_service.model.text.normalize_text` (HTML unescape, NFC) first and
truncate at {metadata["max_tokens"]} tokens, as the service does.

## Test-split metrics
Held-out stratified 20% ({metrics["n_test"]} messages, {metrics["n_test_spam"]} spam); copies of a message never
straddle train and validation. 95% bootstrap intervals in brackets; threshold {metrics["threshold"]} (the operating
point below).

| metric | served (combined) | transformer alone | baseline alone |
| --- | --- | --- | --- |
{rows}

Spam recall / F1 on text the models have not seen:

| set | served | transformer | baseline |
| --- | --- | --- | --- |
{views}

## Operating point

The service labels a message spam at spam probability >= {thresholds["combined"]} (the transformer alone, with
`COMBINE_BASELINE=false`: >= {thresholds["transformer"]}) unless `SPAM_THRESHOLD` says otherwise: the lowest threshold
that blocks at most {100 * operating["ham_blocked_budget"]:.2f}% of validation ham. How it holds elsewhere:

| set | spam caught | ham flagged | at 0.5: caught / flagged | ROC AUC | spam caught at 1% ham flagged |
| --- | --- | --- | --- | --- | --- |
{operating_rows}

Served by `{backends["default_backend"]}` unless `INFERENCE_BACKEND` says otherwise ({backends["rule"]}); the
table above is that backend's. Each backend on the test split (speed: texts/s in batches of {backends["batch_size"]}
on the machine that ran the pipeline, tokenization and baseline included):

| backend | served spam F1 | transformer spam F1 | texts/s |
| --- | --- | --- | --- |
{backends_table(backends)}

Best validation spam F1 {training["best"]["spam_f1"]:.4f} at epoch {training["best"]["epoch"]}
({training["steps"]} steps, {training["seconds"]:.0f} s on CPU).

## Limits
Trained on English SMS from about 2012. Newer spam (links, delivery and crypto scams) differs; the baseline
n-gram model degrades faster on it than this model, but monitor real traffic. Emoji and most non-Latin scripts
map to unknown tokens.

## Data
{data["name"]}, {data["source"]}, licence {data["licence"]}; file md5 `{data["md5"]}`.
Cite: {data["citation"]}
"""


def export(
    checkpoint: Path,
    baseline: Path,
    onnx_dir: Path,
    out_dir: Path,
    *,
    name: str,
    base_model: str,
    max_tokens: int,
    raw_data: Path,
) -> dict:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / ONNX_DIR).mkdir(parents=True)
    for path in checkpoint.iterdir():
        if path.is_file() and path.name != RUN_RECORD_FILE:  # the pipeline's run id means nothing elsewhere
            shutil.copyfile(path, out_dir / path.name)
    for filename in ONNX_FILES.values():
        shutil.copyfile(onnx_dir / filename, out_dir / ONNX_DIR / filename)
    shutil.copyfile(baseline, out_dir / BASELINE_FILE)
    # Saved tokenizers keep the base's 512 limit; pin the limit the model was evaluated with.
    config_path = out_dir / TOKENIZER_CONFIG_FILE
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    tokenizer_config["model_max_length"] = max_tokens
    config_path.write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")

    metrics = json.loads(METRICS_REPORT.read_text(encoding="utf-8"))
    training = json.loads((checkpoint / TRAINING_SUMMARY_FILE).read_text(encoding="utf-8"))
    backends = json.loads(BACKENDS_REPORT.read_text(encoding="utf-8"))
    metadata = {
        "name": name,
        "version": weights_digest(out_dir),
        "base_model": base_model,
        "max_tokens": max_tokens,
        "default_backend": backends["default_backend"],
        "labels": list(LABELS),
        "combination": f"spam_probability = max(transformer, baseline from {BASELINE_FILE})",
        "metrics": {key: metrics[key] for key in METRIC_NAMES},
        "operating_point": {
            key: metrics["operating_point"][key] for key in ("ham_blocked_budget", "chosen_on", "thresholds")
        },
        "backends": backends["backends"],
        "data": {**DATA_PROVENANCE, "md5": file_md5(raw_data)},
    }
    write_serving_metadata(out_dir, metadata)
    (out_dir / MODEL_CARD_FILE).write_text(model_card(metadata, metrics, training, backends), encoding="utf-8")
    # save_pretrained writes weights 0600; a container running as another user must read them.
    for path in out_dir.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return metadata


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = load_params("model")
    out_dir = export_dir(model["name"])
    try:
        with tracked_run("export") as run:
            metadata = export(
                CHECKPOINT_DIR,
                BASELINE_PATH,
                ONNX_OUT_DIR,
                out_dir,
                name=model["name"],
                base_model=model["base"],
                max_tokens=load_params("export")["max_tokens"],
                raw_data=raw_collection(),
            )
            metrics = json.loads(METRICS_REPORT.read_text(encoding="utf-8"))
            backends = json.loads(BACKENDS_REPORT.read_text(encoding="utf-8"))
            registered = publish_export(run, out_dir, metrics, backends)
    except RegistryError as exc:
        raise SystemExit(f"export: {exc}") from exc
    _logger.info(
        "exported %s version %s to %s/; registered as version %s of the registry's spam-classifier",
        metadata["name"],
        metadata["version"],
        out_dir,
        registered,
    )


if __name__ == "__main__":
    main()
