"""int8 candidates on tiny random checkpoints: static scales make a text's result independent of its pass, the
calibration ranges see only real tokens, and the recipe's settings reach the graph."""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from spam_service.model.artifact import ONNX_DIR, ONNX_FILES, int8_candidate_path
from spam_service.model.classifier import softmax
from spam_service.model.engines import OnnxEngine
from spam_service.model.tokenization import TextTokenizer
from spam_service.pipeline.quantization import (
    Int8Recipe,
    _Tails,
    activation_ranges,
    feed_forward_outputs,
    quantize,
    recipes_from_params,
    weight_matmuls,
)
from tests.support.tiny_models import CALIBRATION_TEXTS, export_tiny_onnx

TEXTS = ["free prize call now", "ok", "hello mum see you at lunch tomorrow " * 2, "txt stop", "won cash"]


@pytest.fixture(scope="module", params=["bert", "distilbert"])
def exported(request, tmp_path_factory, tiny_bert_dir, tiny_distilbert_dir) -> tuple[Path, dict]:
    source = {"bert": tiny_bert_dir, "distilbert": tiny_distilbert_dir}[request.param]
    directory = tmp_path_factory.mktemp(f"quantized-{request.param}")
    for path in source.iterdir():
        if path.is_file():
            (directory / path.name).write_bytes(path.read_bytes())
    return directory, export_tiny_onnx(directory)


def largest_batch_difference(directory: Path, model_path: Path) -> float:
    """The largest change of a text's spam probability between running alone and inside a padded pass of all."""
    tokenizer = TextTokenizer.load(directory, max_tokens=16)
    engine = OnnxEngine.load(model_path, "onnx-int8", threads=1)
    encoded = tokenizer.encode(TEXTS)
    alone = [softmax(engine.logits(tokenizer.pad([e])))[0, 1] for e in encoded]
    together = softmax(engine.logits(tokenizer.pad(encoded)))[:, 1]
    reversed_pass = softmax(engine.logits(tokenizer.pad(encoded[::-1])))[::-1, 1]
    return float(max(np.abs(together - alone).max(), np.abs(reversed_pass - alone).max()))


def test_a_static_candidate_gives_a_text_the_same_probability_alone_and_among_others(exported):
    directory, _ = exported
    assert largest_batch_difference(directory, int8_candidate_path(directory / ONNX_DIR, "static")) <= 1e-6


def test_a_dynamic_candidate_depends_on_the_other_texts_of_its_pass(exported):
    """Why the rule asks for static scales: each pass's own activation range sets the dynamic scales."""
    directory, _ = exported
    assert largest_batch_difference(directory, int8_candidate_path(directory / ONNX_DIR, "dynamic")) > 1e-6


def test_the_export_report_describes_each_candidate(exported):
    directory, report = exported
    assert json.loads((directory / ONNX_DIR / "export.json").read_text()) == report
    static, dynamic = report["int8_candidates"]["static"], report["int8_candidates"]["dynamic"]
    assert static["batch_invariant"] is True and dynamic["batch_invariant"] is False
    assert static["calibration"] == "minmax" and static["kept_fp32"] == []
    assert report["calibration_texts"] == len(CALIBRATION_TEXTS)
    for candidate in (static, dynamic):
        assert 0 <= candidate["max_logit_difference_vs_torch"] < 0.5


def test_feed_forward_outputs_are_the_narrowing_projections_of_either_architecture(exported):
    directory, _ = exported
    model = onnx.load(str(directory / ONNX_DIR / ONNX_FILES["onnx"]))
    shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
    outputs = feed_forward_outputs(model)
    assert len(outputs) == 1  # one layer
    [node] = [n for n in weight_matmuls(model) if n.name == outputs[0]]
    assert shapes[node.input[1]] == (64, 32)  # intermediate 64 -> hidden 32


def test_a_kept_projection_stays_fp32_and_the_others_are_quantized(exported, tmp_path):
    directory, _ = exported
    fp32 = directory / ONNX_DIR / ONNX_FILES["onnx"]
    tokenizer = TextTokenizer.load(directory, max_tokens=16)
    feeds = [tokenizer.pad([e]) for e in tokenizer.encode(CALIBRATION_TEXTS)]
    original = onnx.load(str(fp32))
    kept = feed_forward_outputs(original)[0]
    linear = [n.name for n in weight_matmuls(original)]
    out = tmp_path / "kept.onnx"
    quantize(Int8Recipe("kept", "static", keep_fp32=1), fp32, out, feeds, keep_fp32_nodes=[kept])
    model = onnx.load(str(out))
    initializers = {i.name for i in model.graph.initializer}
    matmuls = {n.name: n for n in model.graph.node if n.op_type == "MatMul"}
    assert matmuls[kept].input[1] in initializers  # its fp32 weight, no DequantizeLinear in front
    others = [matmuls[name] for name in linear if name != kept]
    assert others and all(n.input[1].endswith("DequantizeLinear_Output") for n in others)


def test_activation_ranges_cover_every_value_at_100_and_clip_the_tails_below(exported):
    directory, _ = exported
    fp32 = directory / ONNX_DIR / ONNX_FILES["onnx"]
    tokenizer = TextTokenizer.load(directory, max_tokens=16)
    feeds = [tokenizer.pad([e]) for e in tokenizer.encode(CALIBRATION_TEXTS)]
    tensors = sorted({n.input[0] for n in weight_matmuls(onnx.load(str(fp32)))})
    full = activation_ranges(fp32, tensors, feeds, 100.0)
    clipped = activation_ranges(fp32, tensors, feeds, 99.0)
    for name in tensors:
        assert full[name][0] <= clipped[name][0] <= clipped[name][1] <= full[name][1]
    assert any(clipped[name] != full[name] for name in tensors)


def test_tails_give_the_percentile_of_all_values_seen_in_pieces():
    values = np.random.default_rng(0).normal(size=10_000).astype(np.float32)
    tails = _Tails(keep=10, low=np.empty(0, np.float32), high=np.empty(0, np.float32))
    for piece in np.array_split(values, 7):
        tails.add(piece)
    ordered = np.sort(values)
    assert tails.low[-1] == ordered[9] and tails.high[0] == ordered[-10]


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        ({}, "is empty"),
        ({"x": {"method": "static", "percentil": 99.9}}, r"'x': unknown keys \['percentil'\]"),
        ({"x": {"method": "qat"}}, r"'x': method must be dynamic or static, not 'qat'"),
        ({"x": {"method": "static", "calibration": "entropy"}}, r"'x': calibration must be minmax or percentile"),
        ({"x": {"method": "static", "percentile": 120}}, r"'x': percentile must be in \(50, 100\]"),
    ],
)
def test_a_bad_recipe_is_refused_with_its_name(candidates, message):
    with pytest.raises(ValueError, match=message):
        recipes_from_params(candidates)


def test_the_shipped_recipes_parse():
    from spam_service.pipeline.params import load_params
    from tests.support import REPO_ROOT

    recipes = recipes_from_params(load_params("quantization", REPO_ROOT / "params.yaml")["candidates"])
    assert any(r.batch_invariant for r in recipes), "the rule can only choose a batch-invariant candidate"
