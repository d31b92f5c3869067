"""The baseline stage: probabilities for the combination, and a byte-identical file for identical inputs."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

from spam_service.pipeline.baseline import build_baseline
from spam_service.pipeline.dataset import write_jsonl
from tests.support.samples import synthetic


def test_the_baseline_gives_spam_probabilities():
    examples = synthetic(60, seed=1)
    model = build_baseline().fit([e.text for e in examples], [e.label for e in examples])
    spam_column = list(model.classes_).index("spam")
    spam, ham = model.predict_proba(["win cash prize claim free", "see you at home mum"])[:, spam_column]
    assert spam > 0.5 > ham


def run_baseline_stage(workdir: Path) -> bytes:
    workdir.mkdir()
    (workdir / "params.yaml").write_text(
        yaml.safe_dump({"baseline": {"C": 10.0, "class_weight": "balanced"}, "train": {"text_normalization": "basic"}})
    )
    write_jsonl(workdir / "data/prepared/train.jsonl", synthetic(80, seed=3))
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    command = [sys.executable, "-m", "spam_service.pipeline.baseline"]
    subprocess.run(command, cwd=workdir, env=env, check=True, capture_output=True, timeout=120)
    return (workdir / "models/baseline.joblib").read_bytes()


def test_two_runs_write_the_same_bytes_so_the_model_version_is_reproducible(tmp_path):
    first, second = (run_baseline_stage(tmp_path / name) for name in ("a", "b"))
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()
