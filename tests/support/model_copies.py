"""A "different" model cheaply: the trained model's files linked into a new directory, with another version in
its serving.json (the version the service reports and stores is read from there)."""

import json
from pathlib import Path

from spam_service.model.artifact import SERVING_METADATA_FILE


def model_copy(source: Path, destination: Path, version: str) -> Path:
    destination.mkdir(parents=True)
    for path in source.iterdir():
        if path.name != SERVING_METADATA_FILE:
            (destination / path.name).symlink_to(path.resolve())
    metadata = json.loads((source / SERVING_METADATA_FILE).read_text(encoding="utf-8"))
    (destination / SERVING_METADATA_FILE).write_text(json.dumps({**metadata, "version": version}), encoding="utf-8")
    return destination
