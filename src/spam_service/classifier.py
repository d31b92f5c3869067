"""The spam classifier as served: tokenizer + fine-tuned sequence-classification model.

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
REPRODUCE_HINT = "run `make model` (or `dvc repro`) to produce it, or set MODEL_DIR to an exported model"


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    spam_probability: float
    truncated: bool
    tokens: int


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

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        max_tokens: int = 256,
        batch_size: int = 32,
        spam_threshold: float = 0.5,
        torch_threads: int | None = None,
    ) -> SpamClassifier:
        """Load an exported model directory; raise `ModelLoadError` with a one-line, actionable message."""
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
        return cls(
            model,
            tokenizer,
            name=metadata.get("name") or model_dir.name,
            version=metadata.get("version") or weights_digest(model_dir),
            max_tokens=max_tokens,
            batch_size=batch_size,
            spam_threshold=spam_threshold,
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

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities, truncated, tokens = self.spam_probabilities(texts)
        return [
            Prediction(
                label=SPAM if p >= self.spam_threshold else HAM,
                spam_probability=p,
                truncated=t,
                tokens=n,
            )
            for p, t, n in zip(probabilities, truncated, tokens, strict=True)
        ]


def read_serving_metadata(model_dir: Path) -> dict[str, Any]:
    path = model_dir / SERVING_METADATA_FILE
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path} is unreadable ({exc}): {REPRODUCE_HINT}") from exc


def weights_digest(model_dir: Path) -> str:
    """First 12 hex digits of the weights' SHA-256: identifies the trained weights, not the run."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin")):
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:12]
