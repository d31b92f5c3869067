"""Stage `feedback` on real SQLite stores written by the service's own store: what a row holds (text, label,
provenance), what it drops (texts of validation, test and the probe; feedback without a text), how the dataset
accumulates across exports, that it is byte-identical when nothing changed, and how training reads it (excluded
reporters, weights)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from spam_service.pipeline.dataset import Example, write_jsonl
from spam_service.pipeline.feedback_data import (
    FeedbackParams,
    feedback_examples,
    read_feedback,
    training_feedback,
    weighted_examples,
)
from spam_service.pipeline.feedback_export import export_feedback, main
from tests.support import REPO_ROOT
from tests.support.feedback_store import MODEL, Reported, write_feedback_store
from tests.support.live_server import free_port
from tests.support.samples import synthetic

VALIDATION_TEXT = "Are you coming to the match on Sunday?"
TEST_TEXT = "URGENT! Your mobile number has won a 2000 bonus. Call 09066364589"
PROBE_TEXT = "Royal Mail: your parcel has a fee to pay, visit royalmail-fee.uk/pay"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The stage's inputs: prepared splits and a probe, each holding one text that feedback will also report."""
    prepared = tmp_path / "data" / "prepared"
    write_jsonl(prepared / "validation.jsonl", [Example(VALIDATION_TEXT, "ham")])
    write_jsonl(prepared / "test.jsonl", [Example(TEST_TEXT, "spam")])
    write_jsonl(prepared / "train.jsonl", synthetic(60, seed=3))
    (tmp_path / "data" / "probe").mkdir(parents=True)
    (tmp_path / "data" / "probe" / "modern_sms.tsv").write_text(f"spam\t{PROBE_TEXT}\n", encoding="utf-8")
    return tmp_path


def export(workdir: Path, url: str) -> dict:
    return export_feedback(
        url,
        workdir / "data" / "feedback" / "feedback.jsonl",
        workdir / "data" / "feedback" / "summary.json",
        prepared_dir=workdir / "data" / "prepared",
        probe=workdir / "data" / "probe" / "modern_sms.tsv",
    )


def dataset(workdir: Path) -> Path:
    return workdir / "data" / "feedback" / "feedback.jsonl"


def test_rows_carry_the_text_label_and_provenance_whether_the_service_or_the_reporter_stored_the_text(workdir):
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(
        url,
        [
            Reported("Pay the toll fee today at ez-toll.info", "ham", "spam", reporter="alice"),
            Reported("Lunch at noon?", "spam", "ham", reporter=None, stored_text=False, sent_text=True),
            Reported("Nobody sent this text", "ham", "spam", reporter="bob", stored_text=False),
        ],
    )
    summary = export(workdir, url)

    rows = read_feedback(dataset(workdir))
    assert [(r.text, r.label, r.reporter, r.request_id, r.text_index, r.predicted_label) for r in rows] == [
        ("Pay the toll fee today at ez-toll.info", "spam", "alice", "req-000", 0, "ham"),
        ("Lunch at noon?", "ham", None, "req-001", 0, "spam"),
    ]
    assert {(r.model_version, r.registry_version) for r in rows} == {(MODEL["model_version"], "6")}
    assert all(r.reported_at.endswith("Z") for r in rows)
    first_line = json.loads(dataset(workdir).read_text().splitlines()[0])
    assert set(first_line) == {
        "text", "label", "reporter", "request_id", "text_index", "predicted_label", "registry_version",
        "model_version", "reported_at",
    }  # fmt: skip
    assert summary == json.loads((workdir / "data" / "feedback" / "summary.json").read_text())
    assert summary["exported"] == 2 and summary["skipped_without_text"] == 1
    assert summary["by_label"] == {"ham": 1, "spam": 1}
    assert summary["by_reporter"] == {"(unauthenticated)": 1, "alice": 1}


def test_texts_of_validation_test_and_the_probe_are_dropped_however_they_are_spaced_or_cased(workdir):
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(
        url,
        [
            Reported(VALIDATION_TEXT.upper(), "ham", "spam"),
            Reported("  " + TEST_TEXT.replace(" ", "   "), "spam", "ham"),
            Reported(PROBE_TEXT, "ham", "spam"),
            Reported("A new text", "ham", "spam"),
        ],
    )
    summary = export(workdir, url)
    assert [r.text for r in read_feedback(dataset(workdir))] == ["A new text"]
    assert summary["dropped_evaluation_texts"] == 3


def test_the_dataset_accumulates_a_newer_report_replaces_an_older_and_an_unchanged_store_rewrites_the_same_bytes(
    workdir,
):
    first_store = f"sqlite:///{workdir / 'first.sqlite3'}"
    write_feedback_store(first_store, [Reported("Old message one", "ham", "spam"), Reported("Old two", "ham", "ham")])
    export(workdir, first_store)
    exported = dataset(workdir).read_bytes()
    export(workdir, first_store)
    assert dataset(workdir).read_bytes() == exported  # byte-identical rerun

    # Retention emptied the store; a later store holds a new report on req-001 and a new text.
    second_store = f"sqlite:///{workdir / 'second.sqlite3'}"
    write_feedback_store(second_store, [Reported("Old two", "ham", "spam", reporter="carol", request_id="req-001")])
    write_feedback_store(second_store, [Reported("Brand new", "spam", "ham")], request_prefix="new")
    summary = export(workdir, second_store)
    rows = read_feedback(dataset(workdir))
    assert [(r.request_id, r.text, r.label, r.reporter) for r in rows] == [
        ("new-000", "Brand new", "ham", "reviewer"),
        ("req-000", "Old message one", "spam", "reviewer"),  # kept, though no store holds it any more
        ("req-001", "Old two", "spam", "carol"),  # the newer report replaced the older one
    ]
    assert summary["exported"] == 3 and summary["store_rows_read"] == 2


def test_a_missing_store_leaves_the_dataset_as_it_was_and_creates_no_file(workdir):
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(url, [Reported("Kept across runs", "ham", "spam")])
    export(workdir, url)
    exported = dataset(workdir).read_bytes()
    missing = workdir / "gone" / "predictions.sqlite3"
    summary = export(workdir, f"sqlite:///{missing}")
    assert dataset(workdir).read_bytes() == exported
    assert (summary["exported"], summary["store_rows_read"]) == (1, 0)
    assert not missing.exists() and not missing.parent.exists()


def test_an_unmigrated_store_is_read_as_empty_and_left_unmigrated(workdir):
    path = workdir / "empty.sqlite3"
    sa.create_engine(f"sqlite:///{path}").connect().close()  # an existing, empty database file
    assert export(workdir, f"sqlite:///{path}")["exported"] == 0
    assert sa.inspect(sa.create_engine(f"sqlite:///{path}")).get_table_names() == []


def test_one_message_reported_twice_is_one_row_the_latest_and_conflicting_labels_are_counted(workdir):
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(
        url,
        [
            Reported("Your code is 1234", "ham", "spam", reporter="alice"),
            Reported("your code  is 1234", "ham", "ham", reporter="bob"),
        ],
    )
    summary = export(workdir, url)
    assert [(r.label, r.reporter) for r in read_feedback(dataset(workdir))] == [("ham", "bob")]
    assert (summary["duplicates_merged"], summary["conflicting_labels"]) == (1, 1)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://feedback:s3cret@127.0.0.1:{port}/store", "postgresql+psycopg://feedback:***@127.0.0.1"),
        ("mysql://feedback:s3cret@localhost/store", "mysql://feedback:***@localhost/store"),
    ],
)
def test_an_unreachable_or_unsupported_store_stops_the_stage_naming_the_masked_url(workdir, monkeypatch, url, shown):
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("PREDICTION_STORE_URL", url.format(port=free_port()))
    with pytest.raises(SystemExit) as stopped:
        main()
    message = str(stopped.value)
    assert message.startswith("feedback: ") and shown in message and "s3cret" not in message
    assert not dataset(workdir).exists()


def test_training_drops_excluded_reporters_and_weights_the_feedback(workdir):
    params = workdir / "params.yaml"
    params.write_text("feedback:\n  weight: 4\n  exclude_reporters: [mallory]\n", encoding="utf-8")
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(
        url, [Reported("Good text", "ham", "spam", reporter="alice"), Reported("Bad label", "spam", "ham", "mallory")]
    )
    export(workdir, url)
    settings = FeedbackParams.load(params)
    assert settings == FeedbackParams(weight=4.0, exclude_reporters=("mallory",))
    rows = training_feedback(read_feedback(dataset(workdir)), settings.exclude_reporters)
    assert [r.reporter for r in rows] == ["alice"]  # the dataset still holds mallory's row
    assert len(read_feedback(dataset(workdir))) == 2
    collection = [Example("hello", "ham"), Example("win cash", "spam")]
    examples, weights = weighted_examples(collection, feedback_examples(rows), settings.weight)
    assert [(e.text, e.label) for e in examples] == [("hello", "ham"), ("win cash", "spam"), ("Good text", "spam")]
    assert weights == [1.0, 1.0, 4.0]
    older = workdir / "older-params.yaml"
    older.write_text("train:\n  seed: 1\n", encoding="utf-8")
    assert FeedbackParams.load(older) == FeedbackParams()  # no section: params.yaml's defaults


def test_the_baseline_stage_learns_a_weighted_feedback_label_it_would_otherwise_contradict(workdir):
    """The served score combines transformer and baseline: the baseline must follow ham feedback too."""
    text = "free cash prize win claim urgent"  # spam words only: the synthetic collection calls it spam
    (workdir / "params.yaml").write_text(
        "baseline:\n  C: 10.0\n  class_weight: balanced\ntrain:\n  text_normalization: basic\n"
        "feedback:\n  weight: 50\n  exclude_reporters: []\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}

    def baseline_label() -> str:
        subprocess.run([sys.executable, "-m", "spam_service.pipeline.baseline"], cwd=workdir, env=env, check=True)
        import joblib

        return joblib.load(workdir / "models" / "baseline.joblib").predict([text])[0]

    assert baseline_label() == "spam"
    url = f"sqlite:///{workdir / 'store.sqlite3'}"
    write_feedback_store(url, [Reported(text, "spam", "ham")])
    export(workdir, url)
    assert baseline_label() == "ham"
