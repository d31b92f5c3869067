"""The spam classifier as served: tokenizer + fine-tuned sequence-classification network (run by an inference
engine: torch, or ONNX Runtime fp32/int8, see `engines`), optionally combined with the TF-IDF baseline the
pipeline exports beside it (`baseline.json`, see `baseline_scorer`).

How the two are combined and calibrated is serving.json's `combination` (see `combination`); each text is first
normalised as the model was trained (`text.TextNormalizer`, from config.json).

torch, onnxruntime and transformers are imported inside `SpamClassifier.load`, so importing this module stays cheap.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spam_service.errors import REPRODUCE_HINT, ModelLoadError, first_line
from spam_service.model.artifact import (
    BASELINE_FILE,
    BASELINE_TABLES_FILE,
    CONFIG_FILE,
    read_serving_metadata,
    served_threshold,
    weights_digest,
)
from spam_service.model.baseline_scorer import BaselineScorer, SklearnBaseline, scorer_for_model
from spam_service.model.combination import LEGACY_MAX, ScoreCombination, served_combination
from spam_service.model.engines import Engine, load_engine, resolve_backend
from spam_service.model.labels import HAM, LABELS, SPAM
from spam_service.model.pass_costs import default_pass_costs
from spam_service.model.text import TextNormalizer
from spam_service.model.tokenization import TextTokenizer


@dataclass(frozen=True, slots=True)
class Prediction:
    label: str
    spam_probability: float  # what the label follows: the (calibrated) combination
    truncated: bool
    tokens: int
    transformer_probability: float
    baseline_probability: float | None = None


class SpamClassifier:
    """Classifies texts as spam or ham. Thread-compatible, not thread-safe: call `predict` from one thread."""

    def __init__(
        self,
        engine: Engine,
        tokenizer: TextTokenizer,
        *,
        label2id: dict[str, int],
        max_positions: int | None,
        name: str,
        version: str,
        max_tokens: int = 256,
        batch_size: int = 32,
        spam_threshold: float = 0.5,
        baseline: BaselineScorer | SklearnBaseline | None = None,
        combination: ScoreCombination = LEGACY_MAX,
        normalizer: TextNormalizer | None = None,
    ) -> None:
        label2id = {str(k).lower(): int(v) for k, v in label2id.items()}
        if set(label2id) != set(LABELS):
            raise ModelLoadError(f"model labels are {sorted(label2id)}, expected {list(LABELS)}")
        if max_positions is not None and max_tokens > max_positions:
            raise ModelLoadError(f"MAX_TOKENS={max_tokens} exceeds the model's {max_positions} positions")
        self.engine = engine
        self.tokenizer = tokenizer
        self.name = name
        self.version = version  # digest of the weights (serving.json): what decides the predictions
        # Where it came from, set by `spam_service.model.loading`: the registry's version number ("3"; None for a
        # directory) and the URI it was loaded from.
        self.registry_version: str | None = None
        self.uri: str | None = None
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        # Replaced by the costs measured on this machine when the model is loaded for serving (`loading`).
        self.pass_costs = default_pass_costs(batch_size)
        self.spam_threshold = spam_threshold
        self._spam_index = label2id[SPAM]
        self.baseline = baseline  # a `baseline_scorer` scorer, or None
        self.combination = combination
        self.normalizer = normalizer or TextNormalizer()

    @property
    def backend(self) -> str:
        return self.engine.backend

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        *,
        backend: str = "auto",
        max_tokens: int = 256,
        batch_size: int = 32,
        spam_threshold: float | None = None,
        threads: int | None = None,
        combine_baseline: bool = True,
        baseline_path: Path | None = None,
        onnx_file: Path | None = None,
    ) -> SpamClassifier:
        """Load an exported model directory; raise `ModelLoadError` with a one-line, actionable message.

        `backend` is `auto` (serving.json's `default_backend`, else torch), `torch`, `onnx` or `onnx-int8`, run
        from the directory's `onnx/` unless `onnx_file` names the ONNX file to run (the pipeline's candidates).
        With `combine_baseline`, the baseline (`load_baseline`: the directory's `baseline.json` or
        `baseline.joblib`, or the pickle at `baseline_path`) is combined with the transformer when there is one
        and serving.json's combination uses it. `spam_threshold` None serves the operating point the export
        recorded in serving.json for that combination (0.5 for a directory without one).
        """
        model_dir = Path(model_dir)
        if not (model_dir / CONFIG_FILE).is_file():
            raise ModelLoadError(f"no model at {model_dir}/ ({CONFIG_FILE} missing): {REPRODUCE_HINT}")
        metadata = read_serving_metadata(model_dir)
        chosen = resolve_backend(backend, model_dir, metadata.get("default_backend"))
        try:
            # config.json read as JSON: transformers' AutoConfig imports torch, which the ONNX engines do without.
            config = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
            tokenizer = TextTokenizer.load(model_dir, max_tokens=max_tokens)
            engine = load_engine(model_dir, chosen, threads=threads, onnx_file=onnx_file)
        except ModelLoadError:
            raise
        except Exception as exc:  # any failure here means the directory is unusable: say so in one line
            raise ModelLoadError(f"model at {model_dir}/ is broken ({first_line(exc)}): {REPRODUCE_HINT}") from exc
        combined = combine_baseline and served_combination(metadata, combined=True).uses_baseline
        baseline = load_baseline(model_dir, baseline_path) if combined else None
        return cls(
            engine,
            tokenizer,
            label2id=config.get("label2id", {}),
            max_positions=config.get("max_position_embeddings"),
            name=metadata.get("name") or model_dir.name,
            version=metadata.get("version") or weights_digest(model_dir),
            max_tokens=max_tokens,
            batch_size=batch_size,
            spam_threshold=(
                spam_threshold
                if spam_threshold is not None
                else served_threshold(metadata, combined=baseline is not None)
            ),
            baseline=baseline,
            combination=served_combination(metadata, combined=baseline is not None),
            normalizer=TextNormalizer.from_config(config),
        )

    def spam_probabilities(self, texts: Sequence[str]) -> tuple[list[float], list[bool], list[int]]:
        """Spam probability, truncation flag and token count per text, in input order."""
        encoded = self.tokenizer.encode(self.normalizer.all(texts))
        probabilities = [0.0] * len(texts)
        costs = self.pass_costs
        for group in plan_forward_passes([len(t.ids) for t in encoded], costs.max_texts, costs.overhead_tokens):
            logits = self.engine.logits(self.tokenizer.pad([encoded[i] for i in group]))
            for i, p in zip(group, softmax(logits)[:, self._spam_index].tolist(), strict=True):
                probabilities[i] = p
        return probabilities, [t.truncated for t in encoded], [len(t.ids) for t in encoded]

    def baseline_probabilities(self, texts: Sequence[str]) -> list[float] | None:
        if self.baseline is None:
            return None
        return self.baseline.spam_probabilities(self.normalizer.all(texts))

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        probabilities, truncated, tokens = self.spam_probabilities(texts)
        baseline = self.baseline_probabilities(texts)
        predictions = []
        for i, (p, t, n) in enumerate(zip(probabilities, truncated, tokens, strict=True)):
            b = baseline[i] if baseline is not None else None
            combined = self.combination.combine(p, b)
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


def plan_forward_passes(lengths: Sequence[int], max_batch: int, overhead_tokens: float) -> list[list[int]]:
    """Group texts (indices into `lengths`, token counts) into forward passes of at most `max_batch`, each padded to
    its own longest text, minimising padded tokens plus `overhead_tokens` per pass (`pass_costs` measures both).

    Texts of similar length go together: a batch of random SMS padded to its longest costs about twice the sorted
    grouping. Optimal for that cost over the length-sorted order, by dynamic programming (n x max_batch steps).
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    sorted_lengths = [lengths[i] for i in order]
    best = [0.0] + [float("inf")] * len(order)  # best[j]: cost of the first j sorted texts
    start_of_last = [0] * (len(order) + 1)
    for end in range(1, len(order) + 1):
        longest = sorted_lengths[end - 1]
        for start in range(max(0, end - max_batch), end):
            cost = best[start] + overhead_tokens + (end - start) * longest
            if cost < best[end]:
                best[end], start_of_last[end] = cost, start
    groups, end = [], len(order)
    while end > 0:
        groups.append(order[start_of_last[end] : end])
        end = start_of_last[end]
    return groups[::-1]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def load_baseline(model_dir: Path, path: Path | None = None) -> BaselineScorer | SklearnBaseline | None:
    """The baseline to combine: the tables the export wrote (`baseline.json`, no scikit-learn needed), else the
    fitted pipeline (`baseline.joblib`, or `path`); None when the directory has neither. joblib unpickles: the
    model directory is trusted code, like any pickled checkpoint."""
    if path is None:
        if (model_dir / BASELINE_TABLES_FILE).is_file():
            return BaselineScorer.load(model_dir / BASELINE_TABLES_FILE)
        path = model_dir / BASELINE_FILE
    if not path.is_file():
        return None
    import joblib

    try:
        baseline = joblib.load(path)
    except Exception as exc:  # any failure means the file is unusable: say so in one line
        raise ModelLoadError(f"{path} is broken ({type(exc).__name__}): {REPRODUCE_HINT}") from exc
    if not hasattr(baseline, "predict_proba") or SPAM not in list(getattr(baseline, "classes_", [])):
        raise ModelLoadError(f"{path} is not a spam/ham classifier with probabilities: {REPRODUCE_HINT}")
    return scorer_for_model(baseline)
