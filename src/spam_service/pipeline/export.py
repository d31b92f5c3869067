"""Stage `export`: the serving artifact in weights/<name>/.

A Hugging Face directory (config, tokenizer, safetensors) that `AutoModelForSequenceClassification` and
`AutoTokenizer` load as they are, plus `serving.json` (name, version, token limit) and a model card.
"""

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from spam_service.classifier import SERVING_METADATA_FILE, weights_digest
from spam_service.pipeline.evaluate import REPORTS_DIR
from spam_service.pipeline.params import load_params
from spam_service.pipeline.train import CHECKPOINT_DIR

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

METRIC_ROWS = ("accuracy", "spam_precision", "spam_recall", "spam_f1", "mcc", "ham_blocked_rate")


def file_md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def model_card(metadata: dict[str, Any], metrics: dict[str, Any], training: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {name} | {metrics[name]:.4f} ({metrics['ci95'][name]['low']:.4f}-{metrics['ci95'][name]['high']:.4f}) "
        f"| {metrics['baseline'][name]:.4f} |"
        for name in METRIC_ROWS
    )
    data = metadata["data"]
    return f"""# {metadata["name"]} ({metadata["version"]})

Spam/ham classifier for SMS-like short messages: `{metadata["base_model"]}` fine-tuned as a two-class
sequence classifier (labels `ham`, `spam`) by this repository's DVC pipeline (`dvc repro`).

## Use
Served by `spam_service` (see the repository README). Loads with Hugging Face `AutoTokenizer` and
`AutoModelForSequenceClassification`; apply `spam_service.text.normalize_text` (HTML unescape, NFC) first and
truncate at {metadata["max_tokens"]} tokens, as the service does.

## Test-split metrics
Held-out stratified 20% ({metrics["n_test"]} messages, {metrics["n_test_spam"]} spam); copies of a message never
straddle splits. 95% bootstrap intervals in brackets; the baseline is TF-IDF word+char n-grams with a linear SVM.

| metric | this model | baseline |
| --- | --- | --- |
{rows}

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


def export(checkpoint: Path, out_dir: Path, *, name: str, base_model: str, max_tokens: int, raw_data: Path) -> dict:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    for path in checkpoint.iterdir():
        if path.is_file():
            shutil.copyfile(path, out_dir / path.name)
    # Saved tokenizers keep the base's 512 limit; pin the limit the model was evaluated with.
    config_path = out_dir / "tokenizer_config.json"
    tokenizer_config = json.loads(config_path.read_text(encoding="utf-8"))
    tokenizer_config["model_max_length"] = max_tokens
    config_path.write_text(json.dumps(tokenizer_config, indent=2) + "\n", encoding="utf-8")

    metrics = json.loads((REPORTS_DIR / "metrics.json").read_text(encoding="utf-8"))
    training = json.loads((checkpoint / "training.json").read_text(encoding="utf-8"))
    metadata = {
        "name": name,
        "version": weights_digest(out_dir),
        "base_model": base_model,
        "max_tokens": max_tokens,
        "labels": ["ham", "spam"],
        "metrics": {key: metrics[key] for key in METRIC_ROWS},
        "data": {**DATA_PROVENANCE, "md5": file_md5(raw_data)},
    }
    (out_dir / SERVING_METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(model_card(metadata, metrics, training), encoding="utf-8")
    # save_pretrained writes weights 0600; a container running as another user must read them.
    for path in out_dir.iterdir():
        path.chmod(0o644)
    return metadata


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = load_params("model")
    metadata = export(
        CHECKPOINT_DIR,
        Path("weights") / model["name"],
        name=model["name"],
        base_model=model["base"],
        max_tokens=load_params("export")["max_tokens"],
        raw_data=Path(load_params("prepare")["raw"]),
    )
    _logger.info("exported %s version %s to weights/%s/", metadata["name"], metadata["version"], model["name"])


if __name__ == "__main__":
    main()
