"""Stage `onnx`: the fine-tuned network as ONNX for ONNX Runtime, fp32 and with dynamic int8 quantisation.

Writes models/onnx/model.onnx and models/onnx/model.int8.onnx, and models/onnx/export.json with the largest
logit difference of each from torch on sample messages. The fp32 export must match torch (it is the same
computation); the int8 one's accuracy is judged by the evaluate stage on the whole test split.

Two traps this guards against: the exporter names inputs by position, so the names are taken from the forward
signature's order (a wrong order silently swaps attention_mask and token_type_ids); and the export is traced from
the "eager" attention implementation, whose graph ONNX Runtime fuses well (the SDPA path exports slower).
"""

import inspect
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spam_service.model.artifact import ONNX_FILES
from spam_service.model.engines import OnnxEngine
from spam_service.pipeline.paths import CHECKPOINT_DIR, ONNX_OUT_DIR

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


def export_onnx(checkpoint: Path, out_dir: Path) -> dict:
    import numpy as np
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(checkpoint, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint, local_files_only=True, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    encoded = tokenizer(SAMPLES, padding=True, truncation=True, max_length=64, return_tensors="pt")
    names = input_names(model, encoded)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32_path = out_dir / ONNX_FILES["onnx"]
    int8_path = out_dir / ONNX_FILES["onnx-int8"]
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
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)  # the quantizer logs a line per tensor at INFO on the root logger
    try:
        quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)

    feed = {name: encoded[name].numpy() for name in names}
    differences = {
        backend: float(np.abs(OnnxEngine.load(path, backend, threads=None).logits(feed) - reference).max())
        for backend, path in (("onnx", fp32_path), ("onnx-int8", int8_path))
    }
    if differences["onnx"] > FP32_TOLERANCE:
        raise RuntimeError(
            f"the fp32 ONNX export differs from torch by {differences['onnx']:.3g} in logits "
            f"(allowed {FP32_TOLERANCE}): inputs {names} are probably mis-ordered"
        )
    report = {
        "opset": OPSET,
        "inputs": names,
        "max_logit_difference_vs_torch": differences,
        "size_mb": {backend: round((out_dir / f).stat().st_size / 1e6, 1) for backend, f in ONNX_FILES.items()},
    }
    (out_dir / "export.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    report = export_onnx(CHECKPOINT_DIR, ONNX_OUT_DIR)
    _logger.info(
        "exported ONNX to %s/: fp32 %.1f MB (max logit diff %.2g), int8 %.1f MB (max logit diff %.2g)",
        ONNX_OUT_DIR,
        report["size_mb"]["onnx"],
        report["max_logit_difference_vs_torch"]["onnx"],
        report["size_mb"]["onnx-int8"],
        report["max_logit_difference_vs_torch"]["onnx-int8"],
    )


if __name__ == "__main__":
    main()
