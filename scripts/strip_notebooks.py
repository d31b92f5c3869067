#!/usr/bin/env python3
"""Strips the outputs from the notebooks under notebooks/ (or the ones named), so that git holds only their source.

    python scripts/strip_notebooks.py            # strip in place (what `make notebooks-strip` runs)
    python scripts/strip_notebooks.py --check    # list notebooks with outputs and exit 1, changing nothing

Outputs are the data's and the model's of the moment (images, tables of messages): they bloat diffs and go stale
with every `dvc repro`. tests/test_notebooks.py fails while a committed notebook has any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
# Front-ends record when each cell ran and how it was displayed: state of one session, not of the notebook.
SESSION_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")


def strip(notebook: nbformat.NotebookNode) -> None:
    """Clear outputs and execution counts; keep the kernel's name, drop the version of Python it last ran on."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in SESSION_CELL_METADATA:
            cell.metadata.pop(key, None)
    kept = {"kernelspec": notebook.metadata["kernelspec"]} if "kernelspec" in notebook.metadata else {}
    notebook.metadata = nbformat.NotebookNode({**kept, "language_info": {"name": "python"}})


def strip_file(path: Path, *, write: bool) -> bool:
    """Whether the notebook at `path` had anything to strip; rewrites it when it had and `write` is true."""
    original = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(original, as_version=nbformat.NO_CONVERT)
    strip(notebook)
    stripped = nbformat.writes(notebook) + "\n"
    if stripped == original:
        return False
    if write:
        path.write_text(stripped, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every .ipynb under notebooks/")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook has outputs")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
    changed = [path for path in paths if strip_file(path, write=not args.check)]
    for path in changed:
        print(f"{'has outputs' if args.check else 'stripped'}: {path}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
