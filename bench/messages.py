"""The benchmarks' messages: the texts of a prepared split (`data/prepared/test.jsonl` by default)."""

import json
from pathlib import Path


def load_messages(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        messages = [json.loads(line)["text"] for line in lines if line.strip()]
    if not messages:
        raise SystemExit(f"no messages in {path}")
    return messages
