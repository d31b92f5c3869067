"""The package's shape, checked: the API is a leaf that only the entry point imports, and tests share helpers only
through tests/support."""

import ast
from pathlib import Path

from tests.support import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "spam_service"


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` names in a file, function bodies included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_only_the_entry_point_imports_the_api():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in imported_modules(path) if name.startswith("spam_service.api")
        )
        for path in PACKAGE.rglob("*.py")
        if PACKAGE / "api" not in path.parents and path != PACKAGE / "__main__.py"
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_no_test_module_imports_another():
    tests_dir = REPO_ROOT / "tests"
    offenders = {
        str(path.relative_to(tests_dir)): sorted(
            name
            for name in imported_modules(path)
            if name.startswith("tests.") and not name.startswith("tests.support")
        )
        for path in tests_dir.rglob("*.py")
    }
    assert {file: names for file, names in offenders.items() if names} == {}


def test_the_checks_above_see_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from spam_service.api.app import create_app\n    import tests.api.test_predict\n")
    assert imported_modules(sample) == {"spam_service.api.app", "tests.api.test_predict"}
