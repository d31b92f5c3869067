"""Reads the pipeline's `params.yaml` (the file DVC tracks)."""

from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path("params.yaml")


def load_params(section: str, path: Path = PARAMS_FILE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        params = yaml.safe_load(handle) or {}
    if section not in params:
        raise KeyError(f"{path} has no `{section}:` section")
    return params[section]
