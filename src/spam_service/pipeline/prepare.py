"""Stage `prepare`: raw collection -> data/prepared/{train,validation,test}.jsonl."""

import json
import logging
from collections import Counter
from pathlib import Path

from spam_service.pipeline.dataset import read_collection, split_examples, write_jsonl
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import PREPARED_DIR, raw_collection, split_path

_logger = logging.getLogger(__name__)


def prepare(raw_path: Path, out_dir: Path, *, test_size: float, validation_size: float, seed: int) -> dict:
    examples = read_collection(raw_path)
    splits = split_examples(examples, test_size=test_size, validation_size=validation_size, seed=seed)
    summary = {}
    for name, split in splits.items():
        write_jsonl(split_path(name, out_dir), split)
        summary[name] = dict(sorted(Counter(e.label for e in split).items()))
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
    )
    _logger.info("prepared splits (label counts): %s", summary)


if __name__ == "__main__":
    main()
