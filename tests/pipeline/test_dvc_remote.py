"""The default DVC remote, with real DVC and git in temporary directories: what one clone pushes, the next clone on
the machine pulls bit for bit, after which `dvc repro` trains nothing and the tree stays clean; `make model` pulls
instead of training when the remote has the model.

The clones live in tmp/x/{a,b,c}, so the committed remote url (`../../dvc-remote`, relative to .dvc/) names
tmp/x/dvc-remote: the test exercises the committed configuration, not one of its own. The pipeline outputs come from
this workspace (`make test` builds the model first); they are never retrained here. A WebHDFS remote, as
docs/data-versioning.md documents it, is checked against the repository's WebHDFS test server with a small file.
"""

import filecmp
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support import REPO_ROOT
from tests.support.servers.webhdfs import WebHdfsServer

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}
RAN_STAGE = re.compile(r"Running stage '([\w@.-]+)'")


def run(cmd: list[str], cwd: Path) -> str:
    """Run a command; its combined output, or a failure that shows it."""
    # Stages run `python`: this interpreter's, as `make` arranges for dvc repro. The `feedback` stage finds no
    # prediction store (not the session's, where other tests leave feedback): its dataset stays as pulled.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    no_store = f"sqlite:///{cwd / 'no-prediction-store' / 'predictions.sqlite3'}"
    env = {**os.environ, **GIT_IDENTITY, "PATH": path, "PREDICTION_STORE_URL": no_store}
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(cmd)} failed in {cwd} ({done.returncode}):\n{output}"
    return output


def dvc(*args: str, cwd: Path) -> str:
    return run([sys.executable, "-m", "dvc", *args], cwd)


def clone(source: Path, target: Path) -> Path:
    run(["git", "clone", "--quiet", str(source), str(target)], target.parent)
    # Hard links between a clone's cache and its workspace: half the copying of DVC's default, same addresses.
    dvc("config", "--local", "cache.type", "hardlink", cwd=target)
    return target


def always_changed_stages(repo: Path) -> set[str]:
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return {name for name, stage in stages.items() if stage.get("always_changed")}


def pipeline_stages(repo: Path) -> list[str]:
    return list(yaml.safe_load((repo / "dvc.yaml").read_text())["stages"])


def cached_outputs(repo: Path) -> list[str]:
    """Paths of the stages' outputs that are not in git (DVC's cache holds them): the model, its inputs and the
    feedback dataset (an always_changed stage's output, but a dependency of training all the same)."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    paths = [out["path"] for name in pipeline_stages(repo) for out in lock.get(name, {}).get("outs", [])]
    return [path for path in paths if not (repo / path).exists()]


def model_dir(repo: Path) -> Path:
    params = yaml.safe_load((repo / "params.yaml").read_text())
    return repo / "weights" / params["model"]["name"]


@dataclass(frozen=True)
class Published:
    root: Path  # tmp/x
    publisher: Path  # tmp/x/a, which committed and pushed the workspace's outputs
    remote: Path


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    """A clone of this repository's HEAD that committed this workspace's pipeline outputs and pushed them."""
    root = tmp_path_factory.mktemp("x")
    a = clone(REPO_ROOT, root / "a")
    outputs = cached_outputs(a)
    missing = [path for path in outputs if not (REPO_ROOT / path).exists()]
    if missing:
        pytest.fail(f"pipeline outputs missing in {REPO_ROOT}: {missing}; run dvc repro (or make model)", pytrace=False)
    for path in outputs:
        source, target = REPO_ROOT / path, a / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    # The lock now names exactly these outputs, whatever CPU trained them.
    dvc("commit", "--force", "--quiet", *pipeline_stages(a), cwd=a)
    if run(["git", "status", "--porcelain", "dvc.lock"], a).strip():
        run(["git", "commit", "--quiet", "-m", "dvc.lock: the workspace's outputs", "dvc.lock"], a)
    dvc("push", "--quiet", *pipeline_stages(a), cwd=a)
    yield Published(root=root, publisher=a, remote=root / "dvc-remote")


def test_the_default_remote_is_a_directory_beside_the_clone(published):
    remotes = [line.split() for line in dvc("remote", "list", cwd=published.publisher).splitlines()]
    assert ["local", str(published.remote), "(default)"] in remotes
    assert (published.remote / "files" / "md5").is_dir()


def test_a_fresh_clone_pulls_the_pushed_outputs_and_repro_trains_nothing(published):
    b = clone(published.publisher, published.root / "b")
    dvc("pull", "--quiet", *pipeline_stages(b), cwd=b)

    served, pulled = model_dir(REPO_ROOT), model_dir(b)
    names = sorted(p.relative_to(served) for p in served.rglob("*") if p.is_file())
    assert names and names == sorted(p.relative_to(pulled) for p in pulled.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(served, pulled, [str(n) for n in names], shallow=False)
    assert not mismatch and not errors

    pinned = [stage for stage in pipeline_stages(b) if stage not in always_changed_stages(b)]
    status = dvc("status", *pinned, cwd=b)
    assert "up to date" in status, status
    ran = set(RAN_STAGE.findall(dvc("repro", cwd=b)))
    assert ran <= always_changed_stages(b), f"dvc repro ran {ran} after a pull"
    assert run(["git", "status", "--porcelain"], b) == ""


def test_make_model_pulls_instead_of_training_when_the_remote_has_the_model(published):
    c = clone(published.publisher, published.root / "c")
    assert not model_dir(c).exists()
    # `-o install`: the venv running these tests is the one to use, not one to (re)build in the clone.
    output = run(["make", "--no-print-directory", "-o", "install", "model", f"VENV={sys.prefix}"], c)
    assert "pulled the model" in output and "lacks the model" not in output, output
    assert not RAN_STAGE.findall(output)
    assert (model_dir(c) / "onnx" / "model.int8.onnx").is_file()
    assert run(["git", "status", "--porcelain"], c) == ""


def test_a_webhdfs_remote_as_documented_pushes_as_its_user_and_a_clone_pulls(tmp_path):
    if importlib.util.find_spec("dvc_webhdfs") is None:
        pytest.fail("dvc-webhdfs is missing: pip install -r requirements-dev.txt", pytrace=False)
    with WebHdfsServer() as server:
        url = f"webhdfs://{server.host}:{server.port}/dvc/spam-service"

        def add_remote(repo: Path) -> None:  # --local: remote details stay out of git, as the document says
            dvc("remote", "add", "--local", "hdfs", url, cwd=repo)
            dvc("remote", "modify", "--local", "hdfs", "user", "spam-service", cwd=repo)

        source = tmp_path / "source"
        source.mkdir()
        run(["git", "init", "--quiet"], source)
        dvc("init", "--quiet", cwd=source)
        (source / "data.txt").write_bytes(os.urandom(4096))
        dvc("add", "--quiet", "data.txt", cwd=source)
        run(["git", "add", "-A"], source)
        run(["git", "commit", "--quiet", "-m", "data"], source)
        add_remote(source)
        dvc("push", "--quiet", "-r", "hdfs", cwd=source)

        with server.fs.lock:
            stored = {path: node.owner for path, node in server.fs.nodes.items() if not node.directory}
        assert stored and all(path.startswith("/dvc/spam-service/files/md5/") for path in stored), stored
        assert set(stored.values()) == {"spam-service"}

        copy = tmp_path / "copy"
        run(["git", "clone", "--quiet", str(source), str(copy)], tmp_path)
        add_remote(copy)
        dvc("pull", "--quiet", "-r", "hdfs", cwd=copy)
        assert (copy / "data.txt").read_bytes() == (source / "data.txt").read_bytes()


FAKE_DVC = """#!/bin/sh
# Stands in for DVC where the real one would train: records its arguments; pull and push fail like an empty remote.
echo "$*" >> "$DVC_CALLS"
case "$1" in
  pull) echo "ERROR: failed to pull data from the cloud - Checkout failed for following targets:" >&2; exit 1 ;;
  push) echo "ERROR: failed to push data to the cloud" >&2; exit 1 ;;
esac
"""


def test_make_model_trains_then_pushes_when_the_pull_fails_and_a_failed_push_does_not_fail_make(tmp_path):
    # The training branch's control flow only (real DVC here would train for minutes): a venv whose `dvc` is a stub.
    repo = tmp_path / "repo"
    run(["git", "clone", "--quiet", str(REPO_ROOT), str(repo)], tmp_path)
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "dvc").write_text(FAKE_DVC)
    (venv_bin / "dvc").chmod(0o755)
    calls = tmp_path / "calls"
    done = subprocess.run(
        ["make", "--no-print-directory", "-o", "install", "model", f"VENV={venv_bin.parent}"],
        cwd=repo,
        env={**os.environ, "DVC_CALLS": str(calls)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[0] for line in calls.read_text().splitlines()] == ["pull", "repro", "push"]
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and "lacks the model" in lines[0] and "'dvc push' failed" in lines[1], done.stdout
    assert "Checkout failed" in (repo / ".dvc" / "tmp" / "model-pull.log").read_text()  # kept, not shown
