"""The spam classifier as served: tokenizer + fine-tuned sequence-classification model, optionally combined
with the TF-IDF baseline the pipeline exports beside it (`baseline.joblib`).

The combination is max(p_transformer, p_baseline): the baseline can only turn a verdict to spam, never to ham, so
the transformer's spam recall on messages unlike the training data is kept (the n-gram model hardly fires on
them), while on familiar spam the two models' different misses cancel.

torch and transformers are imported inside `SpamClassifier.load`, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spam_service.errors import ModelLoadError
from spam_service.labels import HAM, LABELS, SPAM
from spam_service.text import normalize_text

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

_logger = logging.getLogger(__name__)

SERVING_METADATA_FILE = "serving.json"
BASELINE_FILE = "baseline.joblib"
REPRODUCE_HINT = "run `make model` (or `dvc repro`) to produce it, or set MODEL_DIR to an exported model"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    spam_probability: float  # what the label follows: the combination when a baseline is loaded
    truncated: bool
    tokens: int
    transformer_probability: float
    baseline_probability: float | None = None


class SpamClassifier:
    """Classifies texts as spam or ham. Thread-compatible, not thread-safe: call `predict` from one thread."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str,
        version: str,
        max_tokens: int = 256,
        batch_size: int = 32,
        spam_threshold: float = 0.5,
        baseline: Any = None,
    ) -> None:
        label2id = {str(k).lower(): int(v) for k, v in model.config.label2id.items()}
        if set(label2id) != set(LABELS):
            raise ModelLoadError(f"model labels are {sorted(label2id)}, expected {list(LABELS)}")
        positions = getattr(model.config, "max_position_embeddings", None)
        if positions is not None and max_tokens > positions:
            raise ModelLoadError(f"MAX_TOKENS={max_tokens} exceeds the model's {positions} positions")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.version = version
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.spam_threshold = spam_threshold
        self._spam_index = label2id[SPAM]
        self.baseline = baseline  # a fitted scikit-learn pipeline with predict_proba, or None
        self._baseline_spam_column = list(baseline.classes_).index(SPAM) if baseline is not None else 0

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        max_tokens: int = 256,
        batch_size: int = 32,
        spam_threshold: float = 0.5,
        torch_threads: int | None = None,
        combine_baseline: bool = True,
        baseline_path: Path | None = None,
    ) -> SpamClassifier:
        """Load an exported model directory; raise `ModelLoadError` with a one-line, actionable message.

        With `combine_baseline`, the baseline at `baseline_path` (default: `baseline.joblib` in the directory) is
        combined with the transformer when that file exists.
        """
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").is_file():
            raise ModelLoadError(f"no model at {model_dir}/ (config.json missing): {REPRODUCE_HINT}")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bars in the service log
        if torch_threads:
            torch.set_num_threads(torch_threads)
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                model_dir, local_files_only=True, dtype=torch.float32
            )
        except Exception as exc:  # any failure here means the directory is unusable: say so in one line
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelLoadError(f"model at {model_dir}/ is broken ({first_line}): {REPRODUCE_HINT}") from exc
        if not tokenizer.is_fast:
            raise ModelLoadError(f"model at {model_dir}/ has no fast tokenizer (tokenizer.json): {REPRODUCE_HINT}")
        metadata = read_serving_metadata(model_dir)
        baseline = load_baseline(baseline_path or model_dir / BASELINE_FILE) if combine_baseline else None
        return cls(
            model,
            tokenizer,
            name=metadata.get("name") or model_dir.name,
            version=metadata.get("version") or weights_digest(model_dir),
            max_tokens=max_tokens,
            batch_size=batch_size,
            spam_threshold=spam_threshold,
            baseline=baseline,
        )

    def spam_probabilities(self, texts: Sequence[str]) -> tuple[list[float], list[bool], list[int]]:
        """Spam probability, truncation flag and token count per text, in input order."""
        import torch

        normalized = [normalize_text(t) for t in texts]
        # Sort by length so each batch pads to a similar size; results are put back in input order.
        order = sorted(range(len(normalized)), key=lambda i: len(normalized[i]))
        probabilities = [0.0] * len(texts)
        truncated = [False] * len(texts)
        tokens = [0] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                encoded = self.tokenizer(
                    [normalized[i] for i in batch],
                    truncation=True,
                    max_length=self.max_tokens,
                    padding=True,
                    return_tensors="pt",
                )
                logits = self.model(**encoded).logits
                spam = torch.softmax(logits.float(), dim=-1)[:, self._spam_index].tolist()
                lengths = encoded["attention_mask"].sum(dim=1).tolist()
                for row, i in enumerate(batch):
                    probabilities[i] = spam[row]
                    truncated[i] = bool(encoded.encodings[row].overflowing)
                    tokens[i] = int(lengths[row])
        return probabilities, truncated, tokens

    def baseline_probabilities(self, texts: Sequence[str]) -> list[float] | None:
        if self.baseline is None:
            return None
        normalized = [normalize_text(t) for t in texts]
        return self.baseline.predict_proba(normalized)[:, self._baseline_spam_column].tolist()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities, truncated, tokens = self.spam_probabilities(texts)
        baseline = self.baseline_probabilities(texts)
        predictions = []
        for i, (p, t, n) in enumerate(zip(probabilities, truncated, tokens, strict=True)):
            b = baseline[i] if baseline is not None else None
            combined = max(p, b) if b is not None else p
            predictions.append(
                Prediction(
                    label=SPAM if combined >= self.spam_threshold else HAM,
                    spam_probability=combined,
                    truncated=t,
                    tokens=n,
                    transformer_probability=p,
                    baseline_probability=b,
                )
            )
        return predictions


def load_baseline(path: Path) -> Any:
    """The exported baseline, or None when the directory has none. joblib unpickles: the model directory is
    trusted code, like any pickled checkpoint."""
    if not path.is_file():
        return None
    import joblib

    try:
        baseline = joblib.load(path)
    except Exception as exc:  # any failure means the file is unusable: say so in one line
        raise ModelLoadError(f"{path} is broken ({type(exc).__name__}): {REPRODUCE_HINT}") from exc
    if not hasattr(baseline, "predict_proba") or SPAM not in list(getattr(baseline, "classes_", [])):
        raise ModelLoadError(f"{path} is not a spam/ham classifier with probabilities: {REPRODUCE_HINT}")
    return baseline


def read_serving_metadata(model_dir: Path) -> dict[str, Any]:
    path = model_dir / SERVING_METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is unreadable ({exc}): {REPRODUCE_HINT}") from exc


def weights_digest(model_dir: Path) -> str:
    """First 12 hex digits of the SHA-256 of the weights (and the baseline, when exported): identifies what
    decides the predictions, not the run that made them."""
    digest = hashlib.sha256()
    weights = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    for path in [*weights, *sorted(model_dir.glob(BASELINE_FILE))]:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
