"""Stage `onnx`: the fine-tuned network as ONNX for ONNX Runtime, fp32, and its int8 candidates.

Writes models/onnx/model.onnx, one models/onnx/int8/<name>.onnx per recipe of params.yaml's
`quantization.candidates` (`spam_service.pipeline.quantization`), and models/onnx/export.json with the largest
logit difference of each from torch on sample messages, and the sensitivity ranking that chose the layers kept fp32.
The fp32 export must match torch (it is the same computation); the int8 candidates are judged by the evaluate stage,
which chooses the one served as `onnx-int8`.

Static recipes are calibrated on `quantization.calibration_texts` training messages; the sensitivity ranking is
measured on `quantization.sensitivity_texts` validation messages (never the test split).

Two traps this guards against: the exporter names inputs by position, so the names are taken from the forward
signature's order (a wrong order silently swaps attention_mask and token_type_ids); and the export is traced from
the "eager" attention implementation, whose graph ONNX Runtime fuses well (the SDPA path exports slower).
"""

import inspect
import json
import logging
import random
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spam_service.model.artifact import INT8_CANDIDATES_DIR, ONNX_FILES, int8_candidate_path
from spam_service.model.classifier import plan_forward_passes
from spam_service.model.engines import OnnxEngine
from spam_service.model.text import TextNormalizer
from spam_service.model.tokenization import TextTokenizer
from spam_service.pipeline.dataset import read_jsonl
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import CHECKPOINT_DIR, ONNX_OUT_DIR, split_path
from spam_service.pipeline.quantization import (
    Feed,
    Int8Recipe,
    activation_ranges,
    quantize,
    rank_sensitive_nodes,
    recipes_from_params,
    static_percentile,
    weight_matmuls,
)

_logger = logging.getLogger(__name__)

OPSET = 17
FP32_TOLERANCE = 1e-3  # largest logit difference allowed between torch and the fp32 export

SAMPLES = [
    "Ok lar... Joking wif u oni...",
    "WINNER!! As a valued network customer you have been selected to receive a £900 prize reward! Call 09061701461",
    "see you at 7?",
    "Your parcel could not be delivered. Pay the 1.99 redelivery fee at https://post-redeliver.example/track",
    "",
]


def input_names(model: Any, encoded: Mapping[str, Any]) -> list[str]:
    """The tokenizer's outputs the model takes, in the order of its forward signature."""
    return [name for name in inspect.signature(model.forward).parameters if name in encoded]


SENSITIVITY_PASS_TEXTS = 16
EXPORT_REPORT = "export.json"


def read_int8_candidates(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The int8 candidates the stage built in `out_dir`: name -> recipe and what the build measured."""
    return json.loads((out_dir / EXPORT_REPORT).read_text(encoding="utf-8"))["int8_candidates"]


def export_onnx(
    checkpoint: Path,
    out_dir: Path,
    recipes: Sequence[Int8Recipe],
    *,
    calibration_texts: Sequence[str],
    sensitivity_texts: Sequence[str],
    max_tokens: int,
) -> dict:
    """Export fp32 and build every recipe's int8 candidate; return what export.json records."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, local_files_only=True, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    normalizer = TextNormalizer.from_config(model.config.to_dict())  # as training normalised, as serving will
    encoded = tokenizer(normalizer.all(SAMPLES), padding=True, truncation=True, max_length=64, return_tensors="pt")
    names = input_names(model, encoded)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = out_dir / ONNX_FILES["onnx"]
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    with torch.inference_mode():
        reference = model(**{name: encoded[name] for name in names}).logits.numpy()
        torch.onnx.export(
            model,
            (),
            str(fp32_path),
            kwargs={name: encoded[name] for name in names},
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**dynamic, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,  # the legacy exporter gives exact logits and the faster int8 model
        )
    feed = {name: encoded[name].numpy() for name in names}
    fp32_difference = float(np.abs(OnnxEngine.load(fp32_path, "onnx", threads=None).logits(feed) - reference).max())
    if fp32_difference > FP32_TOLERANCE:
        raise RuntimeError(
            f"the fp32 ONNX export differs from torch by {fp32_difference:.3g} in logits "
            f"(allowed {FP32_TOLERANCE}): inputs {names} are probably mis-ordered"
        )

    text_tokenizer = TextTokenizer.load(checkpoint, max_tokens=max_tokens)
    # One text a feed: calibration never measures padding.
    calibration = [text_tokenizer.pad([t]) for t in text_tokenizer.encode(normalizer.all(calibration_texts))]
    sensitivity = text_tokenizer.encode(normalizer.all(sensitivity_texts))
    candidates_dir = out_dir / INT8_CANDIDATES_DIR
    shutil.rmtree(candidates_dir, ignore_errors=True)
    candidates_dir.mkdir()
    builder = CandidateBuilder(fp32_path, calibration, sensitivity, text_tokenizer)
    candidates = {}
    for recipe in recipes:
        path = int8_candidate_path(out_dir, recipe.name)
        kept = builder.build(recipe, path)
        logits = OnnxEngine.load(path, "onnx-int8", threads=None).logits(feed)
        candidates[recipe.name] = {
            **recipe.describe(),
            "batch_invariant": recipe.batch_invariant,
            "kept_fp32": kept,
            "max_logit_difference_vs_torch": float(np.abs(logits - reference).max()),
            "size_mb": round(path.stat().st_size / 1e6, 1),
        }
    report = {
        "opset": OPSET,
        "inputs": names,
        "max_logit_difference_vs_torch": {"onnx": fp32_difference},
        "size_mb": {"onnx": round(fp32_path.stat().st_size / 1e6, 1)},
        "calibration_texts": len(calibration),
        "sensitivity_texts": len(sensitivity),
        "int8_candidates": candidates,
        "sensitivity": builder.rankings,
    }
    (out_dir / EXPORT_REPORT).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


class CandidateBuilder:
    """Builds int8 candidates of one fp32 export, sharing what recipes have in common: the activation ranges of a
    calibration percentile, and the sensitivity ranking of a base recipe (the same recipe with no layer kept fp32)."""

    def __init__(
        self, fp32_path: Path, calibration: Sequence[Feed], sensitivity: Sequence[Any], tokenizer: TextTokenizer
    ) -> None:
        import onnx

        self.fp32_path = fp32_path
        self.calibration = calibration
        self.sensitivity = sensitivity
        self.tokenizer = tokenizer
        model = onnx.load(str(fp32_path), load_external_data=False)
        self.activations = sorted({node.input[0] for node in weight_matmuls(model)})
        self._ranges: dict[float, dict[str, tuple[float, float]]] = {}
        self._rankings: dict[str, list[dict[str, Any]]] = {}  # per base recipe's settings
        self.rankings: dict[str, list[dict[str, Any]]] = {}  # per recipe that keeps layers, most sensitive first

    def ranges(self, recipe: Int8Recipe) -> dict[str, tuple[float, float]] | None:
        if recipe.method != "static":
            return None
        percentile = static_percentile(recipe)
        if percentile not in self._ranges:
            self._ranges[percentile] = activation_ranges(self.fp32_path, self.activations, self.calibration, percentile)
        return self._ranges[percentile]

    def margins(self, path: Path) -> np.ndarray:
        """The difference of the two logits of each sensitivity text under the model at `path`."""
        engine = OnnxEngine.load(path, "onnx-int8", threads=None)
        margins = np.zeros(len(self.sensitivity))
        lengths = [len(t.ids) for t in self.sensitivity]
        for group in plan_forward_passes(lengths, SENSITIVITY_PASS_TEXTS, 0.0):
            logits = engine.logits(self.tokenizer.pad([self.sensitivity[i] for i in group]))
            margins[group] = logits[:, -1] - logits[:, 0]
        return margins

    def build(self, recipe: Int8Recipe, path: Path) -> list[str]:
        """Write `recipe`'s candidate to `path`; the nodes it kept fp32."""
        kept: list[str] = []
        if recipe.keep_fp32:
            base = Int8Recipe(**{**recipe.describe(), "name": f"{recipe.name}:base", "keep_fp32": 0})
            key = json.dumps(base.describe(), sort_keys=True)
            if key not in self._rankings:
                ranked = rank_sensitive_nodes(base, self.fp32_path, self.calibration, self.margins, self.ranges(base))
                self._rankings[key] = [{"node": node, "mean_margin_error": round(e, 4)} for node, e in ranked]
                _logger.info("sensitivity of %s: %s", recipe.name, ", ".join(f"{n} {e:.3f}" for n, e in ranked))
            self.rankings[recipe.name] = self._rankings[key]
            kept = [entry["node"] for entry in self._rankings[key][: recipe.keep_fp32]]
        quantize(recipe, self.fp32_path, path, self.calibration, keep_fp32_nodes=kept, ranges=self.ranges(recipe))
        return kept


def sample_texts(split: str, count: int, seed: int) -> list[str]:
    texts = [e.text for e in read_jsonl(split_path(split))]
    random.Random(seed).shuffle(texts)
    return texts[:count]


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("quantization")
    report = export_onnx(
        CHECKPOINT_DIR,
        ONNX_OUT_DIR,
        recipes_from_params(params["candidates"]),
        calibration_texts=sample_texts("train", params["calibration_texts"], params["seed"]),
        sensitivity_texts=sample_texts("validation", params["sensitivity_texts"], params["seed"]),
        max_tokens=load_params("export")["max_tokens"],
    )
    _logger.info(
        "exported ONNX to %s/: fp32 %.1f MB (max logit diff %.2g); int8 candidates: %s",
        ONNX_OUT_DIR,
        report["size_mb"]["onnx"],
        report["max_logit_difference_vs_torch"]["onnx"],
        "; ".join(
            f"{name} {c['size_mb']:.1f} MB (max logit diff {c['max_logit_difference_vs_torch']:.2g})"
            for name, c in report["int8_candidates"].items()
        ),
    )


if __name__ == "__main__":
    main()
