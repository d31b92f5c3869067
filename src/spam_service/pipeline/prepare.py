"""Stage `prepare`: raw collection + modern synthetic SMS -> data/prepared/{train,validation,test}.jsonl."""

import json
import logging
from collections import Counter
from pathlib import Path

from spam_service.pipeline.dataset import MODERN_SOURCE, Example, read_collection, split_examples, write_jsonl
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import PREPARED_DIR, modern_collection, raw_collection, split_path

_logger = logging.getLogger(__name__)


def combined_splits(
    collection: list[Example], modern: list[Example], *, test_size: float, validation_size: float, seed: int
) -> dict[str, list[Example]]:
    """Each split is the collection's split followed by the modern set's split.

    The two are split separately, with the same fractions and seed, so the collection's part of every split is
    exactly the split of the collection alone (same rows, same order): its test figures stay comparable with
    earlier runs and published ones, and the modern part is stratified on its own labels.
    """
    fractions = {"test_size": test_size, "validation_size": validation_size, "seed": seed}
    collection_splits = split_examples(collection, **fractions)
    modern_splits = split_examples(modern, **fractions) if modern else {name: [] for name in collection_splits}
    return {name: collection_splits[name] + modern_splits[name] for name in collection_splits}


def summarize(splits: dict[str, list[Example]]) -> dict[str, dict[str, dict[str, int]]]:
    """Counts per split, source and label: {"train": {"sms-collection": {"ham": n, "spam": n}, ...}, ...}."""
    return {
        name: {
            source: dict(sorted(Counter(e.label for e in split if e.source == source).items()))
            for source in sorted({e.source for e in split})
        }
        for name, split in splits.items()
    }


def prepare(
    raw_path: Path,
    out_dir: Path,
    *,
    test_size: float,
    validation_size: float,
    seed: int,
    modern_path: Path | None = None,
) -> dict:
    collection = read_collection(raw_path)
    modern = read_collection(modern_path, source=MODERN_SOURCE) if modern_path is not None else []
    splits = combined_splits(collection, modern, test_size=test_size, validation_size=validation_size, seed=seed)
    for name, split in splits.items():
        write_jsonl(split_path(name, out_dir), split)
    summary = summarize(splits)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("prepare")
    summary = prepare(
        raw_collection(),
        PREPARED_DIR,
        test_size=params["test_size"],
        validation_size=params["validation_size"],
        seed=params["seed"],
        modern_path=modern_collection(),
    )
    _logger.info("prepared splits (counts per source and label): %s", summary)


if __name__ == "__main__":
    main()
