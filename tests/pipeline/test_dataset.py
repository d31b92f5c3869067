from collections import Counter

import pytest

from spam_service.pipeline.dataset import Example, dedup_key, read_collection, read_jsonl, split_examples, write_jsonl
from tests.support import REPO_ROOT

RAW = REPO_ROOT / "data" / "raw" / "SMSSpamCollection"


@pytest.fixture(scope="module")
def collection() -> list[Example]:
    return read_collection(RAW)


@pytest.fixture(scope="module")
def splits(collection):
    return split_examples(collection, test_size=0.2, validation_size=0.1, seed=42)


def test_the_shipped_collection_is_complete(collection):
    assert Counter(e.label for e in collection) == {"ham": 4827, "spam": 747}


def test_a_malformed_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "raw"
    path.write_text("ham\tfine\nspamm\tbad label\n")
    with pytest.raises(ValueError, match=r":2: expected"):
        read_collection(path)


def test_test_split_is_the_stratified_20_percent(splits, collection):
    test = Counter(e.label for e in splits["test"])
    assert sum(test.values()) == round(len(collection) * 0.2)
    assert test["spam"] == 149  # the figure the published comparisons use


def test_no_message_straddles_train_and_validation(splits):
    keys = {name: {dedup_key(e.text) for e in split} for name, split in splits.items()}
    assert not keys["train"] & keys["validation"]


def test_validation_is_stratified_and_every_message_lands_in_one_split(splits, collection):
    validation = Counter(e.label for e in splits["validation"])
    assert validation["spam"] == pytest.approx(0.1 * 747, abs=3)
    assert validation["ham"] == pytest.approx(0.1 * 4827, abs=3)
    assert sorted(e.text for s in splits.values() for e in s) == sorted(e.text for e in collection)


def test_split_is_deterministic_for_a_seed(collection, splits):
    again = split_examples(collection, test_size=0.2, validation_size=0.1, seed=42)
    assert again == splits
    other = split_examples(collection, test_size=0.2, validation_size=0.1, seed=7)
    assert other["test"] != splits["test"]


def test_jsonl_round_trip_keeps_unicode(tmp_path):
    examples = [Example("héllo 😀\ttab", "ham"), Example("WIN", "spam")]
    write_jsonl(tmp_path / "x.jsonl", examples)
    assert read_jsonl(tmp_path / "x.jsonl") == examples
