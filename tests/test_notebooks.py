"""The notebooks under notebooks/: committed without outputs, and each runs to the end on the pipeline's outputs.

They are executed by a Jupyter kernel on this interpreter (the project's venv, where spam_service imports), from
notebooks/ as Jupyter opens them, on an in-memory copy: the files in the repository are never rewritten. The
pipeline outputs they read exist wherever the suite runs after `dvc repro` (CI reproduces the model first); without
them these tests fail, naming the command, rather than skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from spam_service.pipeline.dataset import Example, read_collection
from spam_service.pipeline.paths import ERRORS_REPORT, METRICS_REPORT, PREPARED_DIR, PROBE_PATH, split_path
from tests.support import REPO_ROOT

NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
# What each notebook reads; the optional reports (probe predictions, operating point) are not required.
PIPELINE_OUTPUTS = {
    "data_investigation.ipynb": [
        *(split_path(name) for name in ("train", "validation", "test")),
        PREPARED_DIR / "summary.json",
        PROBE_PATH,
    ],
    "error_analysis.ipynb": [METRICS_REPORT, ERRORS_REPORT],
}
CELL_TIMEOUT_S = 120
KERNEL_NAME = "spam-service-tests"


def run_notebook(notebook: nbformat.NotebookNode, cwd: Path, kernels_dir: Path) -> None:
    """Execute `notebook` in place, in a kernel started by this interpreter (a kernelspec of its own in
    `kernels_dir`, so that no globally registered `python3` kernel of another Python is picked)."""
    spec_dir = kernels_dir / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL_NAME, "language": "python"}))
    manager = KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels_dir)])
    )
    NotebookClient(notebook, km=manager, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(cwd)}}).execute()


def require_pipeline_outputs(notebook_name: str) -> None:
    missing = [str(path) for path in PIPELINE_OUTPUTS.get(notebook_name, []) if not (REPO_ROOT / path).is_file()]
    if missing:
        pytest.fail(f"{notebook_name} reads pipeline outputs that are missing ({', '.join(missing)}): run `dvc repro`")


def outputs_of_type(notebook: nbformat.NotebookNode, mime: str) -> list[str]:
    return [
        output["data"][mime]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if mime in output.get("data", {})
    ]


def printed_text(notebook: nbformat.NotebookNode) -> str:
    """Everything the cells printed or displayed as text or Markdown, in one string."""
    streams = [
        output["text"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "stream"
    ]
    return "\n".join(streams + outputs_of_type(notebook, "text/markdown") + outputs_of_type(notebook, "text/plain"))


def test_the_notebooks_of_the_design_are_there():
    assert {path.name for path in NOTEBOOKS} >= set(PIPELINE_OUTPUTS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs; run `make notebooks-strip` and commit again"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_to_the_end_on_the_pipeline_outputs(path, tmp_path):
    require_pipeline_outputs(path.name)
    committed = path.read_bytes()
    notebook = nbformat.reads(committed.decode("utf-8"), as_version=4)

    run_notebook(notebook, NOTEBOOKS_DIR, tmp_path / "kernels")

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells)
    assert not [o for cell in code_cells for o in cell.outputs if o["output_type"] == "error"]
    assert outputs_of_type(notebook, "image/png"), f"{path.name} drew no figure"
    assert f"repository root: {REPO_ROOT}" in printed_text(notebook)  # found by walking up from notebooks/
    if path.name == "data_investigation.ipynb":
        assert "summary.json agrees with the prepared rows" in printed_text(notebook)
    assert path.read_bytes() == committed  # executed in memory: the repository's copy stays stripped


def make_repo_with_optional_reports(root: Path, probe_messages: list[Example]) -> None:
    """A repository skeleton holding the error analysis's required reports, plus the optional ones: per-message
    probe predictions in which the served model gets exactly one probe message wrong, and an operating point."""
    (root / "notebooks").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    for report in (METRICS_REPORT, ERRORS_REPORT):
        (root / report).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / report, root / report)
    rows = []
    for index, example in enumerate(probe_messages):
        right = 0.95 if example.label == "spam" else 0.05
        transformer = 1 - right if index == 0 else right
        served = max(transformer, 0.02)  # the baseline's 0.02 never decides
        rows.append(
            {
                "label": example.label,
                "text": example.text,
                "spam_probability": served,
                "transformer": transformer,
                "baseline": 0.02,
            }
        )
    (root / "reports" / "probe_predictions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    metrics = json.loads((root / METRICS_REPORT).read_text(encoding="utf-8"))
    view = {"n": 10, "at_threshold": {"spam_recall": 0.9, "ham_blocked_rate": 0.0}, "roc_auc": 0.99}
    view.update({"at_0.5": view["at_threshold"], "spam_recall_at_1pct_ham": 0.9})
    metrics["operating_point"] = {
        "ham_blocked_budget": 0.005,
        "chosen_on": "validation",
        "thresholds": {"combined": 0.73, "transformer": 0.71},
        **{name: view for name in ("validation", "test", "probe")},
    }
    (root / METRICS_REPORT).write_text(json.dumps(metrics), encoding="utf-8")


def test_error_analysis_shows_the_probe_and_operating_point_when_the_pipeline_writes_them(tmp_path):
    require_pipeline_outputs("error_analysis.ipynb")
    repo = tmp_path / "repo"
    probe_messages = read_collection(REPO_ROOT / PROBE_PATH)
    make_repo_with_optional_reports(repo, probe_messages)
    notebook = nbformat.read(NOTEBOOKS_DIR / "error_analysis.ipynb", as_version=4)

    run_notebook(notebook, repo / "notebooks", tmp_path / "kernels")

    text = printed_text(notebook)
    assert f"**Probe messages the served model gets wrong**: 1 of {len(probe_messages)}" in text
    assert "served threshold 0.73 (transformer alone 0.71), chosen on validation" in text
    assert "probe_predictions.jsonl`: this pipeline does not write" not in text


def make_repo_with_two_sources(root: Path) -> None:
    """A repository skeleton whose prepared splits name their source (some rows `modern-synthetic`), with no
    exported model: the probe messages stand in for synthetic rows, a few in each split."""
    (root / "notebooks").mkdir(parents=True)
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copyfile(REPO_ROOT / name, root / name)
    (root / PROBE_PATH).parent.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / PROBE_PATH, root / PROBE_PATH)
    (root / PREPARED_DIR).mkdir(parents=True)
    synthetic = read_collection(REPO_ROOT / PROBE_PATH)
    summary = {}
    for offset, split in enumerate(("train", "validation", "test")):
        rows = [json.loads(line) for line in (REPO_ROOT / split_path(split)).read_text(encoding="utf-8").splitlines()]
        rows = [{**row, "source": "sms-collection"} for row in rows]
        rows += [{"text": e.text, "label": e.label, "source": "modern-synthetic"} for e in synthetic[offset::3]]
        (root / split_path(split)).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        summary[split] = {
            source: dict(Counter(row["label"] for row in rows if row["source"] == source))
            for source in {row["source"] for row in rows}
        }
    (root / PREPARED_DIR / "summary.json").write_text(json.dumps(summary), encoding="utf-8")  # counts per source


def test_data_investigation_compares_sources_when_prepare_records_them(tmp_path):
    require_pipeline_outputs("data_investigation.ipynb")
    repo = tmp_path / "repo"
    make_repo_with_two_sources(repo)
    notebook = nbformat.read(NOTEBOOKS_DIR / "data_investigation.ipynb", as_version=4)

    run_notebook(notebook, repo / "notebooks", tmp_path / "kernels")

    text = printed_text(notebook)
    assert "from modern-synthetic, sms-collection" in text
    assert "Only one source in the prepared splits" not in text
    assert "token counts skipped" in text  # no exported model in this repository
    assert "summary.json agrees with the prepared rows" in text


def test_strip_script_clears_outputs_and_check_mode_changes_nothing(tmp_path):
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# notes"),
            nbformat.v4.new_code_cell(
                "1 + 1",
                execution_count=3,
                outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=3)],
                metadata={"execution": {"iopub.status.idle": "2026-11-30T16:00:00Z"}},
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python", "version": "3.11.9"},
        },
    )
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    executed = path.read_bytes()
    strip = [sys.executable, str(REPO_ROOT / "scripts" / "strip_notebooks.py")]

    check = subprocess.run([*strip, "--check", str(path)], capture_output=True, text=True, check=False)
    assert (check.returncode, path.read_bytes()) == (1, executed)
    assert f"has outputs: {path}" in check.stdout

    subprocess.run([*strip, str(path)], check=True, capture_output=True)
    stripped = nbformat.read(path, as_version=4)
    code_cell = stripped.cells[1]
    assert (code_cell.source, code_cell.outputs, code_cell.execution_count) == ("1 + 1", [], None)
    assert "execution" not in code_cell.metadata
    assert stripped.metadata == {"kernelspec": notebook.metadata.kernelspec, "language_info": {"name": "python"}}
    assert subprocess.run([*strip, "--check", str(path)], check=False, capture_output=True).returncode == 0
