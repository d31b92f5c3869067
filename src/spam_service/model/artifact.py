"""The exported model directory: its file names, `serving.json`, and the version digest.

The export stage writes this directory and the service reads it; both name its files through this module, so the
writer and the reader cannot drift apart. A training checkpoint has the same Hugging Face files, without `onnx/`,
the baseline or `serving.json`, and loads the same way.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from spam_service.errors import REPRODUCE_HINT, ModelLoadError

# Written by transformers' save_pretrained; named here because the service reads them without transformers.
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
WEIGHTS_PATTERNS = ("*.safetensors", "*.bin")  # the formats save_pretrained writes, the preferred one first

BASELINE_FILE = "baseline.joblib"
BASELINE_TABLES_FILE = "baseline.json"  # the same baseline as scoring tables: what the service loads
SERVING_METADATA_FILE = "serving.json"
MODEL_CARD_FILE = "README.md"
ONNX_DIR = "onnx"
ONNX_FILES: dict[str, str] = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}  # per ONNX backend
# The pipeline's onnx stage writes each int8 candidate here (beside model.onnx); the export copies the chosen one
# to model.int8.onnx.
INT8_CANDIDATES_DIR = "int8"


def int8_candidate_path(onnx_dir: Path, recipe: str) -> Path:
    return onnx_dir / INT8_CANDIDATES_DIR / f"{recipe}.onnx"


def onnx_path(model_dir: Path, backend: str, onnx_dir: Path | None = None) -> Path:
    """The ONNX file of `backend` (`onnx` or `onnx-int8`), in `onnx_dir` when given, else in the model's `onnx/`."""
    return (onnx_dir or model_dir / ONNX_DIR) / ONNX_FILES[backend]


def read_serving_metadata(model_dir: Path) -> dict[str, Any]:
    """`serving.json`, or {} for a directory without one (a checkpoint the export stage has not seen)."""
    path = model_dir / SERVING_METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is unreadable ({exc}): {REPRODUCE_HINT}") from exc


DEFAULT_SPAM_THRESHOLD = 0.5  # for a model exported without an operating point


def served_threshold(metadata: dict[str, Any], *, combined: bool) -> float:
    """The threshold the export chose on validation for the model as it will be served (combined with the
    baseline, or the transformer alone); 0.5 for a directory exported before operating points."""
    thresholds = metadata.get("operating_point", {}).get("thresholds", {})
    return float(thresholds.get("combined" if combined else "transformer", DEFAULT_SPAM_THRESHOLD))


def write_serving_metadata(model_dir: Path, metadata: dict[str, Any]) -> None:
    (model_dir / SERVING_METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def weights_digest(model_dir: Path) -> str:
    """First 12 hex digits of the SHA-256 of the weights (and the baseline, when exported): identifies what
    decides the predictions, not the run that made them. The export records it as the version in serving.json."""
    digest = hashlib.sha256()
    weights = next((found for pattern in WEIGHTS_PATTERNS if (found := sorted(model_dir.glob(pattern)))), [])
    baseline = model_dir / BASELINE_FILE
    for path in [*weights, *([baseline] if baseline.is_file() else [])]:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
