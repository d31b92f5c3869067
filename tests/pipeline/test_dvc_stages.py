"""dvc.yaml against the code: a stage's deps list every project module its command imports (else `dvc repro` keeps
stale outputs after a change there), and its data paths are the ones in `spam_service.pipeline.paths`.

Imports are read statically with `ast`, inside functions too (the stages import torch and the like lazily), and
followed transitively within `spam_service`. A package's `__init__.py` counts only when something is imported from
it: Python runs the others on the way, but they hold no code a stage uses.
"""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from spam_service.pipeline import paths
from tests.support import REPO_ROOT

PACKAGE = "spam_service"
SRC = REPO_ROOT / "src"
PARAMS_FILE = REPO_ROOT / "params.yaml"
COMMAND = re.compile(r"python -m ([\w.]+)")
TEMPLATE = re.compile(r"\$\{([\w.]+)\}")


def module_file(module: str, src: Path) -> Path | None:
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(path: Path, module: str, src: Path) -> set[str]:
    """The project modules that `module` (in `path`) imports from, anywhere in its source."""
    package = (module if path.name == "__init__.py" else module.rpartition(".")[0]).split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            anchor = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join([*anchor, node.module] if node.module else anchor)
            for alias in node.names:  # `from package import module` imports a module; `from module import name` not
                submodule = f"{base}.{alias.name}"
                found.add(submodule if module_file(submodule, src) else base)
    return {name for name in found if name.split(".")[0] == PACKAGE}


def source_files(module: str, src: Path = SRC) -> set[Path]:
    """The files of `module` and of every project module it imports, transitively, relative to `src`'s parent."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            path = module_file(name, src)
            assert path is not None, f"{name} is imported but has no source file under {src}"
            pending.extend(imported_modules(path, name, src))
    return {module_file(name, src).relative_to(src.parent) for name in seen}


def interpolate(text: str, params: dict[str, Any]) -> str:
    """dvc.yaml's `${section.key}` templating, from params.yaml."""

    def value(match: re.Match) -> str:
        result: Any = params
        for key in match.group(1).split("."):
            result = result[key]
        return str(result)

    return TEMPLATE.sub(value, text)


def entry_paths(entries: list) -> list[str]:
    """Paths of a deps/outs/metrics list, whose items are a path or {path: options}."""
    return [next(iter(entry)) if isinstance(entry, dict) else entry for entry in entries]


PARAMS = yaml.safe_load(PARAMS_FILE.read_text(encoding="utf-8"))
STAGES = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
COMMANDS = {name: COMMAND.fullmatch(stage["cmd"]) for name, stage in STAGES.items()}


def deps(stage: str) -> list[Path]:
    return [Path(interpolate(path, PARAMS)) for path in entry_paths(STAGES[stage].get("deps", []))]


def covered(path: Path, dependencies: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in dependencies)


@pytest.mark.parametrize("stage", [name for name, command in COMMANDS.items() if command])
def test_a_stage_depends_on_every_project_module_it_imports(stage):
    files = source_files(COMMANDS[stage].group(1))
    missing = sorted(str(path) for path in files if not covered(path, deps(stage)))
    assert not missing, f"stage {stage} imports {', '.join(missing)}, not in its deps in dvc.yaml"


@pytest.mark.parametrize("stage", [name for name, command in COMMANDS.items() if command])
def test_a_stage_depends_on_no_source_it_does_not_import(stage):
    files = source_files(COMMANDS[stage].group(1))
    sources = [dep for dep in deps(stage) if dep.parts[0] == "src"]
    stale = sorted(str(dep) for dep in sources if not any(covered(path, [dep]) for path in files))
    assert not stale, f"stage {stage} depends on {', '.join(stale)} in dvc.yaml, which it does not import"


def test_every_stage_runs_a_pipeline_module():
    assert all(COMMANDS.values()), {name: stage["cmd"] for name, stage in STAGES.items()}


def test_every_data_path_in_dvc_yaml_is_in_the_paths_table():
    table = {value for value in vars(paths).values() if isinstance(value, Path)}
    table |= {
        paths.raw_collection(PARAMS_FILE),
        paths.modern_collection(PARAMS_FILE),
        paths.export_dir(PARAMS["model"]["name"]),
    }
    table |= {paths.split_path(name) for name in ("train", "validation", "test")}
    unknown = [
        f"{name}: {path}"
        for name, stage in STAGES.items()
        for kind in ("deps", "outs", "metrics")
        for path in map(Path, (interpolate(p, PARAMS) for p in entry_paths(stage.get(kind, []))))
        if path.parts[0] != "src" and path not in table
    ]
    assert not unknown, f"dvc.yaml names paths that spam_service.pipeline.paths does not: {unknown}"


def test_the_walker_follows_imports_inside_functions_and_relative_ones(tmp_path):
    package = tmp_path / "src" / PACKAGE / "pipeline"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Not imported from: not a dependency."""\n')
    (package / "stage.py").write_text("def main():\n    from . import helper\n")
    (package / "helper.py").write_text("from spam_service.pipeline.deep import VALUE\nimport json\n")
    (package / "deep.py").write_text("VALUE = 1\n")
    assert source_files(f"{PACKAGE}.pipeline.stage", tmp_path / "src") == {
        Path("src", PACKAGE, "pipeline", name) for name in ("stage.py", "helper.py", "deep.py")
    }
