"""int8 candidates of the fp32 ONNX export, each built by a recipe of params.yaml (`quantization.candidates`).

The onnx stage builds every candidate; the evaluate stage measures each and its rule chooses the one served as
`onnx-int8` (`spam_service.pipeline.backend_rule`). Two kinds:

- `dynamic`: `quantize_dynamic`, int8 weights, activations scaled at run time from each pass's own range. A text's
  result then depends on the other texts in its pass (their range sets its scale): measured here, up to 0.3 in
  probability between a text alone and in a batch.
- `static`: QDQ with fixed activation scales, calibrated on training texts: a text's result is the same whatever
  shares its pass (bit for bit, measured on ONNX Runtime's CPU kernels). Weights per output channel, 7-bit
  (`reduce_range`): a u8 x s7 product pair cannot saturate the 16-bit sums of CPUs without VNNI (AVX2's
  `vpmaddubsw`), so the integers, and the labels, are the same on every x86 CPU; with 8-bit weights an AVX2 machine
  computes other (saturated) sums than a VNNI one. Only the weight MatMuls are quantized: the attention products
  (both inputs activations, one a softmax in [0, 1]) stay fp32.

Calibration ranges are computed here, not by ONNX Runtime's calibrators, which cannot take texts of different
lengths for their histogram methods and would see padding if the texts were batched: each calibration text runs
alone, and a tensor's range is its `percentile` (both tails) over every real token's values, or its min and max.
They reach `quantize_static` as `TensorQuantOverrides`.

`keep_fp32` keeps the N most sensitive feed-forward output projections (the MatMul from the wide GELU activations,
whose outliers quantize worst) in fp32. Sensitivity is measured, not assumed: for each such projection, the model
quantized with that one left fp32, and the mean change of the logit margin against fp32 over the sensitivity texts.
On the shipped MiniLM, layer 0's projection is by far the most sensitive (README, Quality).
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np

_logger = logging.getLogger(__name__)

Feed = dict[str, np.ndarray]  # one forward pass's inputs, as `TextTokenizer.pad` gives them


@dataclass(frozen=True)
class Int8Recipe:
    name: str
    method: Literal["dynamic", "static"]
    per_channel: bool = True
    reduce_range: bool = True
    calibration: Literal["minmax", "percentile"] = "percentile"
    percentile: float = 99.999  # of each tail, over the calibration texts' token values
    keep_fp32: int = 0  # feed-forward output projections left fp32, the most sensitive first

    @classmethod
    def from_params(cls, name: str, params: Mapping[str, Any]) -> Int8Recipe:
        known = {f.name for f in fields(cls)} - {"name"}
        unknown = set(params) - known
        if unknown:
            raise ValueError(
                f"quantization candidate {name!r}: unknown keys {sorted(unknown)} (known: {sorted(known)})"
            )
        recipe = cls(name=name, **params)
        if recipe.method not in ("dynamic", "static"):
            raise ValueError(
                f"quantization candidate {name!r}: method must be dynamic or static, not {recipe.method!r}"
            )
        if recipe.calibration not in ("minmax", "percentile"):
            raise ValueError(f"quantization candidate {name!r}: calibration must be minmax or percentile")
        if not 50.0 < recipe.percentile <= 100.0:
            raise ValueError(f"quantization candidate {name!r}: percentile must be in (50, 100]")
        return recipe

    @property
    def batch_invariant(self) -> bool:
        """Whether a text's result is independent of the other texts in its pass (static scales)."""
        return self.method == "static"

    def describe(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


def recipes_from_params(candidates: Mapping[str, Mapping[str, Any]]) -> list[Int8Recipe]:
    if not candidates:
        raise ValueError("params.yaml quantization.candidates is empty: name at least one int8 recipe")
    return [Int8Recipe.from_params(name, params or {}) for name, params in candidates.items()]


def weight_matmuls(model: Any) -> list[Any]:
    """The MatMul nodes whose second input is a weight (an initializer): the linear layers. The attention products
    (two activations) are left out."""
    initializers = {i.name for i in model.graph.initializer}
    return [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in initializers]


def feed_forward_outputs(model: Any) -> list[str]:
    """Names of the feed-forward output projections: the weight MatMuls that narrow (d_ff -> d_model), in graph
    order, whatever the architecture names them."""
    shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
    return [n.name for n in weight_matmuls(model) if len(s := shapes[n.input[1]]) == 2 and s[0] > s[1]]


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantizer logs a line per tensor at INFO, and advice at WARNING, on the root logger."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


@dataclass
class _Tails:
    """A tensor's smallest and largest values seen so far, as many as the percentile needs."""

    keep: int
    low: np.ndarray
    high: np.ndarray

    def add(self, values: np.ndarray) -> None:
        k = min(self.keep, values.size)
        low = np.concatenate([self.low, np.partition(values, k - 1)[:k]])
        high = np.concatenate([self.high, np.partition(values, values.size - k)[-k:]])
        self.low = np.sort(low)[: self.keep]
        self.high = np.sort(high)[-self.keep :]


def activation_ranges(
    fp32_path: Path, tensors: Sequence[str], feeds: Sequence[Feed], percentile: float
) -> dict[str, tuple[float, float]]:
    """(rmin, rmax) of each tensor over every calibration feed: the `percentile` of each tail (100: min and max).
    Each feed should be one unpadded text, so that padding is never measured."""
    import onnx
    import onnxruntime

    model = onnx.load(str(fp32_path))
    present = {o.name for o in model.graph.output}
    for name in tensors:
        if name not in present:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    outputs = list(tensors)
    # One pass to size the tails: the share beyond the percentile of all values each tensor will produce.
    first = session.run(outputs, {n: feeds[0][n] for n in inputs})
    tokens_first = feeds[0]["input_ids"].size
    total_tokens = sum(f["input_ids"].size for f in feeds)
    tails = {
        name: _Tails(
            keep=max(1, math.ceil(value.size / tokens_first * total_tokens * (100.0 - percentile) / 100.0)),
            low=np.empty(0, np.float32),
            high=np.empty(0, np.float32),
        )
        for name, value in zip(outputs, first, strict=True)
    }
    for index, feed in enumerate(feeds):
        values = first if index == 0 else session.run(outputs, {n: feed[n] for n in inputs})
        for name, value in zip(outputs, values, strict=True):
            tails[name].add(np.asarray(value, dtype=np.float32).ravel())
    return {name: (float(t.low[-1]), float(t.high[0])) for name, t in tails.items()}


class _Feeds:
    """onnxruntime's CalibrationDataReader protocol over a list of feeds."""

    def __init__(self, feeds: Sequence[Feed], inputs: Sequence[str]) -> None:
        self._items = iter([{n: f[n] for n in inputs} for f in feeds])

    def get_next(self) -> Feed | None:
        return next(self._items, None)


def quantize(
    recipe: Int8Recipe,
    fp32_path: Path,
    out_path: Path,
    calibration: Sequence[Feed],
    *,
    keep_fp32_nodes: Sequence[str] = (),
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> None:
    """Write `recipe`'s int8 model of `fp32_path` to `out_path`. Static recipes take `ranges` of every weight
    MatMul's input (`activation_ranges`), computed here from `calibration` when not given."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static

    model = onnx.load(str(fp32_path), load_external_data=False)
    targets = [n for n in weight_matmuls(model) if n.name not in set(keep_fp32_nodes)]
    with _quiet_root_logger():
        if recipe.method == "dynamic":
            quantize_dynamic(
                str(fp32_path),
                str(out_path),
                weight_type=QuantType.QInt8,
                per_channel=recipe.per_channel,
                reduce_range=recipe.reduce_range,
                nodes_to_exclude=list(keep_fp32_nodes),
            )
            return
        if ranges is None:
            ranges = activation_ranges(
                fp32_path, sorted({n.input[0] for n in targets}), calibration, static_percentile(recipe)
            )
        inputs = [i.name for i in model.graph.input]
        # numpy scalars: the quantizer computes with their dtype
        overrides = {
            n.input[0]: [{"rmin": np.float32(ranges[n.input[0]][0]), "rmax": np.float32(ranges[n.input[0]][1])}]
            for n in targets
        }
        quantize_static(
            str(fp32_path),
            str(out_path),
            _Feeds(calibration[:2], inputs),  # ranges come from the overrides; the calibrator still wants data
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=recipe.per_channel,
            reduce_range=recipe.reduce_range,
            nodes_to_quantize=[n.name for n in targets],
            calibrate_method=CalibrationMethod.MinMax,
            extra_options={"TensorQuantOverrides": overrides},
        )


def static_percentile(recipe: Int8Recipe) -> float:
    return 100.0 if recipe.calibration == "minmax" else recipe.percentile


def rank_sensitive_nodes(
    recipe: Int8Recipe,
    fp32_path: Path,
    calibration: Sequence[Feed],
    margins: Callable[[Path], np.ndarray],
    ranges: Mapping[str, tuple[float, float]],
) -> list[tuple[str, float]]:
    """The feed-forward output projections, each with the mean |logit margin change| against fp32 (`margins` of a
    model file, over the sensitivity texts) of the model quantized with that one projection left fp32; the most
    sensitive (lowest error when kept) first."""
    import onnx

    reference = margins(fp32_path)
    candidates = feed_forward_outputs(onnx.load(str(fp32_path), load_external_data=False))
    errors = []
    with tempfile.TemporaryDirectory(prefix="sensitivity-") as scratch:
        for node in candidates:
            path = Path(scratch) / "candidate.onnx"
            quantize(recipe, fp32_path, path, calibration, keep_fp32_nodes=[node], ranges=ranges)
            errors.append((node, float(np.abs(margins(path) - reference).mean())))
    return sorted(errors, key=lambda pair: pair[1])
