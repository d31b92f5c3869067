"""Reading the SMS Spam Collection, splitting it, and the JSON-lines files the stages exchange."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from spam_service.model.labels import LABELS
from spam_service.model.text import normalize_text

COLLECTION_SOURCE = "sms-collection"  # the SMS Spam Collection (2012)
MODERN_SOURCE = "modern-synthetic"  # data/modern: this project's generated 2018-2025-style SMS


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    source: str = COLLECTION_SOURCE  # the default reads the JSON lines written before sources existed


def read_collection(path: Path, source: str = COLLECTION_SOURCE) -> list[Example]:
    """Parse `label<TAB>text` lines into examples from `source`; raise ValueError naming the first bad line."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            label, sep, text = line.partition("\t")
            if not sep or label not in LABELS:
                raise ValueError(f"{path}:{number}: expected `ham|spam<TAB>text`, got {line[:60]!r}")
            examples.append(Example(text=text, label=label, source=source))
    return examples


def dedup_key(text: str) -> str:
    """Texts with the same key are copies of one message (the collection repeats a few hundred)."""
    return " ".join(normalize_text(text).lower().split())


def split_examples(
    examples: Sequence[Example], *, test_size: float, validation_size: float, seed: int
) -> dict[str, list[Example]]:
    """Deterministic stratified split into train/validation/test.

    Test is the usual stratified split (scikit-learn's `train_test_split`, this seed), so its figures compare
    with published ones and with the quality floor, which was set on that protocol. The collection repeats a few
    hundred messages (spam campaigns send one text to many people), so some test messages have copies in
    training; `evaluate` also reports the test messages that do not, as the honest figure for unseen text.
    Validation is taken from the rest by message: each message with all its copies goes to train or to
    validation, stratified by label, so early stopping never scores a message the model trained on.
    `test_size` and `validation_size` are fractions of the whole collection.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1 or not 0 <= validation_size < 1 or test_size + validation_size >= 1:
        raise ValueError("test_size and validation_size must be fractions whose sum is below 1")
    rest, test = train_test_split(
        list(examples), test_size=test_size, stratify=[e.label for e in examples], random_state=seed
    )
    groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in rest:
        groups[(example.label, dedup_key(example.text))].append(example)
    rng = random.Random(seed)
    splits: dict[str, list[Example]] = {"train": [], "validation": [], "test": list(test)}
    for label in LABELS:
        keys = sorted(key for key in groups if key[0] == label)
        rng.shuffle(keys)
        target = round(sum(e.label == label for e in examples) * validation_size)
        filled = 0
        for key in keys:
            name = "validation" if filled < target else "train"
            if name == "validation":
                filled += len(groups[key])
            splits[name].extend(groups[key])
    rng.shuffle(splits["train"])
    rng.shuffle(splits["validation"])
    return splits


def write_jsonl(path: Path, examples: Iterable[Example]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as handle:
        return [Example(**json.loads(line)) for line in handle if line.strip()]
