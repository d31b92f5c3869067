"""Stage `prepare`: the collection's splits stay as they were, the modern set is split on its own beside them."""

import json
from collections import Counter

import pytest

from spam_service.pipeline.dataset import (
    COLLECTION_SOURCE,
    MODERN_SOURCE,
    Example,
    read_collection,
    read_jsonl,
    split_examples,
)
from spam_service.pipeline.paths import modern_collection, raw_collection, split_path
from spam_service.pipeline.prepare import prepare
from tests.support import REPO_ROOT

PARAMS_FILE = REPO_ROOT / "params.yaml"
FRACTIONS = {"test_size": 0.2, "validation_size": 0.1, "seed": 42}
SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("prepared")
    summary = prepare(
        REPO_ROOT / raw_collection(PARAMS_FILE),
        out_dir,
        modern_path=REPO_ROOT / modern_collection(PARAMS_FILE),
        **FRACTIONS,
    )
    return summary, {name: read_jsonl(split_path(name, out_dir)) for name in SPLITS}, out_dir


def test_the_collection_part_of_each_split_is_the_collection_split_alone(prepared):
    _, splits, _ = prepared
    alone = split_examples(read_collection(REPO_ROOT / raw_collection(PARAMS_FILE)), **FRACTIONS)
    for name in SPLITS:
        assert [e for e in splits[name] if e.source == COLLECTION_SOURCE] == alone[name]
        assert splits[name][: len(alone[name])] == alone[name]  # and it comes first, in the same order


def test_every_split_has_both_labels_of_the_modern_set_in_the_collection_fractions(prepared):
    _, splits, _ = prepared
    modern = read_collection(REPO_ROOT / modern_collection(PARAMS_FILE), source=MODERN_SOURCE)
    for name, fraction in (("test", 0.2), ("validation", 0.1)):
        counts = Counter(e.label for e in splits[name] if e.source == MODERN_SOURCE)
        for label, total in Counter(e.label for e in modern).items():
            assert counts[label] == pytest.approx(total * fraction, abs=3)
    assert sorted(e.text for s in splits.values() for e in s if e.source == MODERN_SOURCE) == sorted(
        e.text for e in modern
    )


def test_the_summary_counts_each_split_by_source_and_label(prepared):
    summary, splits, out_dir = prepared
    assert json.loads((out_dir / "summary.json").read_text(encoding="utf-8")) == summary
    for name in SPLITS:
        counts = Counter((e.source, e.label) for e in splits[name])
        assert summary[name] == {
            source: {label: counts[(source, label)] for label in ("ham", "spam")}
            for source in (MODERN_SOURCE, COLLECTION_SOURCE)
        }
    assert summary["test"][COLLECTION_SOURCE]["spam"] == 149  # the published comparisons' figure, unchanged


def test_without_a_modern_set_the_splits_are_the_collections(tmp_path):
    raw = tmp_path / "raw.tsv"
    raw.write_text("".join(f"{'spam' if i % 4 == 0 else 'ham'}\tmessage {i}\n" for i in range(40)), encoding="utf-8")
    summary = prepare(raw, tmp_path / "out", **FRACTIONS)
    assert set(summary["train"]) == {COLLECTION_SOURCE}
    assert read_jsonl(split_path("test", tmp_path / "out")) == split_examples(read_collection(raw), **FRACTIONS)["test"]


def test_rows_written_before_sources_existed_read_as_the_collection(tmp_path):
    path = tmp_path / "old.jsonl"
    path.write_text('{"text": "see you at 6", "label": "ham"}\n', encoding="utf-8")
    assert read_jsonl(path) == [Example("see you at 6", "ham", COLLECTION_SOURCE)]
