"""Inference engines on tiny random models exported to ONNX by the pipeline's own export code: the ONNX engines
agree with torch, the backend is chosen as documented, and broken or missing files fail with a clear message."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from spam_service.errors import ModelLoadError
from spam_service.model.artifact import ONNX_DIR, ONNX_FILES, SERVING_METADATA_FILE
from spam_service.model.classifier import SpamClassifier
from spam_service.model.engines import resolve_backend
from spam_service.model.pass_costs import PassCosts
from tests.support.tiny_models import export_tiny_onnx

TEXTS = ["free prize call now", "", "hello mum see you at lunch tomorrow " * 3, "😀", "ok txt stop"]


@pytest.fixture(scope="module", params=["bert", "distilbert"])
def exported_dir(request, tmp_path_factory, tiny_bert_dir, tiny_distilbert_dir) -> Path:
    """A tiny checkpoint with its ONNX files in onnx/, as the export stage lays them out."""
    source = {"bert": tiny_bert_dir, "distilbert": tiny_distilbert_dir}[request.param]
    directory = tmp_path_factory.mktemp(f"exported-{request.param}")
    shutil.copytree(source, directory, dirs_exist_ok=True)
    report = export_tiny_onnx(directory)
    # DistilBERT takes no token_type_ids: the export must name only the inputs the model has, in its order.
    expected = ["input_ids", "attention_mask"] + (["token_type_ids"] if request.param == "bert" else [])
    assert report["inputs"] == expected
    return directory


def load(directory: Path, backend: str) -> SpamClassifier:
    return SpamClassifier.load(directory, backend=backend, max_tokens=16, batch_size=2, threads=1)


def test_onnx_fp32_matches_torch(exported_dir):
    torch_predictions = load(exported_dir, "torch").predict(TEXTS)
    onnx = load(exported_dir, "onnx")
    assert onnx.backend == "onnx"
    for ours, reference in zip(onnx.predict(TEXTS), torch_predictions, strict=True):
        assert ours.spam_probability == pytest.approx(reference.spam_probability, abs=1e-5)
        assert (ours.tokens, ours.truncated) == (reference.tokens, reference.truncated)


def test_onnx_int8_stays_close_to_torch(exported_dir):
    torch_predictions = load(exported_dir, "torch").predict(TEXTS)
    int8 = load(exported_dir, "onnx-int8")
    assert int8.backend == "onnx-int8"
    for ours, reference in zip(int8.predict(TEXTS), torch_predictions, strict=True):
        assert ours.spam_probability == pytest.approx(reference.spam_probability, abs=0.05)


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_onnx_results_do_not_depend_on_batch_neighbours(exported_dir, backend):
    """fp32 and the static int8 model (the export's onnx-int8 here) give a text the same probability whatever
    shares its pass."""
    classifier = load(exported_dir, backend)
    classifier.pass_costs = PassCosts(overhead_tokens=1e9, max_texts=len(TEXTS))  # one pass, padded to the longest
    batched = classifier.predict(TEXTS)
    alone = [classifier.predict([text])[0] for text in TEXTS]
    for together, single in zip(batched, alone, strict=True):
        assert together.spam_probability == pytest.approx(single.spam_probability, abs=1e-6)


def test_auto_uses_the_exported_default_and_falls_back_to_torch(exported_dir, tmp_path):
    (exported_dir / SERVING_METADATA_FILE).write_text(json.dumps({"default_backend": "onnx-int8"}))
    try:
        assert resolve_backend("auto", exported_dir, "onnx-int8") == "onnx-int8"
        assert load(exported_dir, "auto").backend == "onnx-int8"
    finally:
        (exported_dir / SERVING_METADATA_FILE).unlink()
    assert load(exported_dir, "auto").backend == "torch"  # nothing recorded
    bare = tmp_path / "bare"
    shutil.copytree(exported_dir, bare, ignore=shutil.ignore_patterns(ONNX_DIR))
    assert resolve_backend("auto", bare, "onnx-int8") == "torch"  # recorded, but its file is gone


def test_missing_onnx_file_names_the_file_and_the_way_out(tiny_bert_dir):
    with pytest.raises(ModelLoadError, match=r"INFERENCE_BACKEND=onnx-int8 needs .*model\.int8\.onnx.*torch"):
        load(tiny_bert_dir, "onnx-int8")


def test_broken_onnx_file_fails_in_one_line(exported_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(exported_dir, broken)
    (broken / ONNX_DIR / ONNX_FILES["onnx"]).write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match=r"model\.onnx is broken .*dvc repro") as caught:
        load(broken, "onnx")
    assert "\n" not in str(caught.value)


def test_onnx_backend_does_not_load_torch(exported_dir):
    """The ONNX engines must not pay torch's memory and import time."""
    code = (
        "import sys; from spam_service.model.classifier import SpamClassifier; "
        f"c = SpamClassifier.load({str(exported_dir)!r}, backend='onnx-int8', max_tokens=16); c.predict(['hi']); "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
