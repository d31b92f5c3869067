"""The experiments runner on tiny data: variants trained and scored at their validation-chosen threshold, one
MLflow run each, the table and JSON kept across runs."""

import json
from dataclasses import replace

import pytest
import yaml

from spam_service.model.artifact import BASELINE_FILE
from spam_service.models.registry import ModelRegistry
from spam_service.pipeline import experiments
from spam_service.pipeline.baseline import build_baseline
from spam_service.pipeline.dataset import MODERN_SOURCE, write_jsonl
from spam_service.pipeline.feedback_data import FeedbackRow, write_feedback
from tests.support.samples import synthetic


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_distilbert_dir):
    """A pipeline working directory after `prepare` and `baseline`: splits with two sources, a probe, params."""
    monkeypatch.chdir(tmp_path)
    modern = [replace(e, text=f"{e.text} via link", source=MODERN_SOURCE) for e in synthetic(24, seed=5)]
    write_jsonl(tmp_path / "data/prepared/train.jsonl", [*synthetic(64, seed=1), *modern])
    write_jsonl(tmp_path / "data/prepared/validation.jsonl", [*synthetic(30, seed=2), *modern[:6]])
    write_jsonl(tmp_path / "data/prepared/test.jsonl", [*synthetic(30, seed=3), *modern[6:12]])
    (tmp_path / "data/probe").mkdir(parents=True)
    probe = "".join(f"{e.label}\t{e.text}\n" for e in synthetic(20, seed=4))
    (tmp_path / "data/probe/modern_sms.tsv").write_text(probe, encoding="utf-8")
    params = {
        "model": {"name": "spam-test", "base": str(tiny_distilbert_dir)},
        "train": {"max_length": 32, "batch_size": 8, "learning_rate": 3e-3, "max_epochs": 2, "evals_per_epoch": 1,
                  "threads": 1},
        "baseline": {"C": 10.0, "class_weight": "balanced"},
        "evaluate": {"ham_blocked_budget": 0.05},
        "export": {"max_tokens": 64},
        "feedback": {"weight": 2.0, "exclude_reporters": ["prankster"]},
    }  # fmt: skip
    reported = [
        FeedbackRow(f"feedback text {n}", "spam", reporter, f"r{n}", 0, "ham", None, "v", "2026-11-30T00:00:00Z")
        for n, reporter in enumerate(("reviewer", "prankster", None))
    ]
    write_feedback(tmp_path / "data/feedback/feedback.jsonl", reported)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    baseline = build_baseline().fit([e.text for e in synthetic(64, seed=1)], [e.label for e in synthetic(64, seed=1)])
    (tmp_path / "models").mkdir()
    import joblib

    joblib.dump(baseline, tmp_path / "models/baseline.joblib")
    variants = {
        "default": {"description": "as params.yaml says"},
        "one-epoch": {"description": "shorter", "train": {"max_epochs": 1, "min_epochs": 0}},
        "collection-only": {"description": "without the modern rows", "sources": ["sms-collection"]},
    }
    (tmp_path / "experiments.yaml").write_text(yaml.safe_dump(variants, sort_keys=False))
    return tmp_path


def test_variants_are_trained_scored_logged_and_tabulated(workdir, tracking_store):
    experiments.main(["default", "collection-only"])
    experiments.main(["one-epoch"])  # a later run adds to the results, in experiments.yaml's order

    results = json.loads((workdir / "reports/experiments.json").read_text())
    assert list(results) == ["default", "one-epoch", "collection-only"]
    rows = (workdir / "reports/experiments.md").read_text().splitlines()
    # A row per variant and combination method, in that order.
    cells = [tuple(cell.strip() for cell in row.split("|")[1:3]) for row in rows[2:]]
    assert cells == [(name, method) for name in results for method in ("transformer", "max", "stacked")]
    for name, result in results.items():
        assert list(result["scores"]) == ["transformer", "max", "stacked"]
        for view in result["scores"].values():
            # The threshold keeps the budget on each validation source, not only on their sum.
            assert view["validation sms-collection"]["ham_flagged"] <= 0.05
            assert view["validation modern-synthetic"]["ham_flagged"] <= 0.05
            assert {"probe", "test", "test_modern"} <= view.keys() and 0 <= view["probe"]["ece"] <= 1
        assert (workdir / "models/experiments" / name / "config.json").is_file()
    assert results["default"]["training"]["rows"] == 88 and results["collection-only"]["training"]["rows"] == 64
    # Every variant learns from the feedback dataset as the pipeline does, the excluded reporter's rows left out.
    assert {result["training"]["feedback_rows"] for result in results.values()} == {2}
    # A variant trained on fewer sources gets a baseline fitted on the same data; the others use the pipeline's.
    assert (workdir / "models/experiments/collection-only" / BASELINE_FILE).is_file()
    assert not (workdir / "models/experiments/default" / BASELINE_FILE).exists()

    registry = ModelRegistry()
    experiment = registry.client.get_experiment_by_name(experiments.MLFLOW_EXPERIMENT)
    runs = registry.client.search_runs([experiment.experiment_id])
    assert sorted(run.info.run_name for run in runs) == sorted(results)
    one_epoch = next(run for run in runs if run.info.run_name == "one-epoch")
    assert json.loads(one_epoch.data.params["train"]) == {"max_epochs": 1, "min_epochs": 0}
    probe = results["one-epoch"]["scores"]["stacked"]["probe"]
    assert one_epoch.data.metrics["stacked.probe.roc_auc"] == probe["roc_auc"]


def test_an_existing_checkpoint_is_scored_without_training(workdir, tracking_store, tiny_distilbert_dir):
    experiments.main(["default", "--checkpoint", f"default={tiny_distilbert_dir}"])
    result = json.loads((workdir / "reports/experiments.json").read_text())["default"]
    assert result["training"] == {} and result["checkpoint"] == str(tiny_distilbert_dir)
    assert not (workdir / "models/experiments").exists()


def test_unknown_variants_and_parameters_are_refused(workdir):
    with pytest.raises(SystemExit, match="no variant"):
        experiments.main(["nope"])
    (workdir / "experiments.yaml").write_text(yaml.safe_dump({"bad": {"train": {"epochs": 3}}}))
    with pytest.raises(SystemExit, match="unknown train parameters"):
        experiments.main([])
