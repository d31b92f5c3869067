"""Training code paths on tiny data: the DistilBERT base (the original design's), batching, oversampling."""

import json
import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from spam_service.model.classifier import SpamClassifier
from spam_service.models.registry import ModelRegistry
from spam_service.pipeline.base_models import resolve_base_model
from spam_service.pipeline.dataset import write_jsonl
from spam_service.pipeline.train import TrainConfig, length_grouped_batches, oversample_spam, train
from tests.support.samples import synthetic


def test_distilbert_base_fine_tunes_exports_and_serves(tiny_distilbert_dir, tmp_path):
    config = TrainConfig(
        base_model=str(tiny_distilbert_dir), max_length=32, batch_size=8, learning_rate=3e-3,
        max_epochs=4, evals_per_epoch=1, patience=4, spam_oversample=1, threads=1,
    )  # fmt: skip
    out = tmp_path / "checkpoint"
    summary = train(synthetic(96, seed=1), synthetic(30, seed=2), config, out, progress=False)
    assert summary["best"]["spam_f1"] >= 0.9, summary["history"]
    assert json.loads((out / "config.json").read_text())["model_type"] == "distilbert"
    classifier = SpamClassifier.load(out, max_tokens=32)
    spam, ham = classifier.predict(["win cash prize claim free", "see you at home mum"])
    assert (spam.label, ham.label) == ("spam", "ham")


def test_training_is_reproducible_for_a_seed(tiny_distilbert_dir, tmp_path):
    config = TrainConfig(base_model=str(tiny_distilbert_dir), batch_size=8, max_epochs=1, evals_per_epoch=1, threads=1)
    first = train(synthetic(40, 1), synthetic(12, 2), config, tmp_path / "a", progress=False)
    second = train(synthetic(40, 1), synthetic(12, 2), config, tmp_path / "b", progress=False)
    assert first["history"] == second["history"]


def test_packaged_minilm_alias_resolves_to_an_installed_checkpoint():
    path = resolve_base_model("all-MiniLM-L6-v2")
    assert (Path(path) / "config.json").is_file()


def run_train_stage(workdir: Path, base_model: str, hub_cache: Path) -> subprocess.CompletedProcess:
    """`python -m spam_service.pipeline.train` as `dvc repro` runs it: configured by params.yaml only, offline."""
    params = {
        "model": {"name": "spam-test", "base": base_model},
        "train": {"max_length": 32, "batch_size": 8, "learning_rate": 3e-3, "max_epochs": 2, "evals_per_epoch": 1},
    }
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    write_jsonl(workdir / "data/prepared/train.jsonl", synthetic(48, seed=1))
    write_jsonl(workdir / "data/prepared/validation.jsonl", synthetic(15, seed=2))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(hub_cache)}
    command = [sys.executable, "-m", "spam_service.pipeline.train"]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def put_in_hub_cache(checkpoint: Path, hub_cache: Path, repo_id: str) -> None:
    """Lay `checkpoint` out as huggingface_hub caches a downloaded model, so `from_pretrained(repo_id)` finds it."""
    revision = "0" * 40
    repo = hub_cache / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(checkpoint, repo / "snapshots" / revision, ignore=shutil.ignore_patterns("_vocab"))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)


def test_distilbert_base_uncased_by_configuration_trains_from_the_hub_cache(
    tiny_distilbert_dir, tmp_path, tracking_store
):
    # A tiny random DistilBERT stands in for the real weights under their hub id: the same code path as
    # `model.base: distilbert-base-uncased` on a machine where the hub was reachable once.
    put_in_hub_cache(tiny_distilbert_dir, tmp_path / "hub", "distilbert-base-uncased")
    result = run_train_stage(tmp_path, "distilbert-base-uncased", tmp_path / "hub")
    assert result.returncode == 0, result.stderr[-2000:]
    checkpoint = tmp_path / "models/checkpoint"
    assert json.loads((checkpoint / "config.json").read_text())["model_type"] == "distilbert"
    assert json.loads((checkpoint / "training.json").read_text())["base_model"] == "distilbert-base-uncased"
    assert SpamClassifier.load(checkpoint, max_tokens=32).predict(["win cash prize"])[0].label in {"spam", "ham"}

    # The stage tracked itself: parameters, each validation check at its step, the summary, and the run's id
    # beside the checkpoint for evaluate and export to resume.
    run_id = json.loads((checkpoint / "mlflow_run.json").read_text())["run_id"]
    client = ModelRegistry().client
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.params["model.base"] == "distilbert-base-uncased"
    assert run.data.params["train.max_epochs"] == "2" and run.data.tags["git_revision"] == "unknown"
    assert len(client.get_metric_history(run_id, "validation.spam_f1")) == 2  # evals_per_epoch 1, 2 epochs
    assert "best_validation.spam_f1" in run.data.metrics
    assert [a.path for a in client.list_artifacts(run_id)] == ["training.json"]


def test_uncached_hub_id_offline_fails_with_one_line_saying_what_to_do(tmp_path):
    assert resolve_base_model("distilbert-base-uncased") == "distilbert-base-uncased"
    result = run_train_stage(tmp_path, "distilbert-base-uncased", tmp_path / "empty-hub")
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("train: cannot load base model 'distilbert-base-uncased'"), result.stderr[-2000:]
    assert "hf download" in last_line and "local checkpoint directory" in last_line


def test_length_grouped_batches_cover_every_example_once():
    lengths = [random.Random(0).randint(3, 200) for _ in range(1001)]
    batches = length_grouped_batches(lengths, 32, random.Random(0))
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(1001))
    assert max(len(b) for b in batches) == 32
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 20  # similar lengths share a batch, so little padding


def test_oversampling_adds_augmented_spam_copies_only():
    examples = synthetic(30, 3)
    grown = oversample_spam(examples, 2, random.Random(0))
    before, after = Counter(e.label for e in examples), Counter(e.label for e in grown)
    assert after["ham"] == before["ham"] and after["spam"] == 3 * before["spam"]
    assert grown[: len(examples)] == examples
