"""Copies of an exported model directory that serve as "another model" in swap tests, made in milliseconds: every
file is a symlink to the original except `serving.json`, whose `version` is changed."""

import json
from pathlib import Path

from spam_service.model.artifact import SERVING_METADATA_FILE


def model_copy(source: Path, directory: Path, *, version: str) -> Path:
    """`source` under `directory` with serving.json's version set to `version` (the same weights and predictions)."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.name != SERVING_METADATA_FILE:
            (directory / path.name).symlink_to(path.resolve())
    metadata = json.loads((source / SERVING_METADATA_FILE).read_text(encoding="utf-8"))
    (directory / SERVING_METADATA_FILE).write_text(json.dumps({**metadata, "version": version}), encoding="utf-8")
    return directory
