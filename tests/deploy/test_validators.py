"""The deployment files pass the real validators, offline: the Compose v2 parser, the compose-spec and GitHub
workflow schemas, hadolint, actionlint and kubernetes-validate (all from requirements-dev.txt; missing = failure)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
MANIFESTS = sorted(p for p in (REPO_ROOT / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")


def tool(name: str) -> str:
    """The tool next to this interpreter (the venv), else on PATH; a missing tool fails the test, loudly."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    assert found, f"{name} is not installed: pip install -r requirements-dev.txt"
    return found


def check(*command: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"


# What a user puts in the git-ignored .env (README, Observability); compose refuses to start without it.
COMPOSE_ENV = {"GRAFANA_ADMIN_PASSWORD": "only-for-this-check"}


def test_compose_file_parses_with_the_real_compose_v2():
    check(tool("docker-compose"), "-f", "docker-compose.yml", "config", "-q", env={**os.environ, **COMPOSE_ENV})


def test_compose_refuses_to_start_grafana_without_an_admin_password(tmp_path):
    # An empty project directory: a developer's own .env in the repository must not supply the password here.
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    compose_file = str(REPO_ROOT / "docker-compose.yml")
    command = [tool("docker-compose"), "-f", compose_file, "--project-directory", str(tmp_path), "config", "-q"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0 and "GRAFANA_ADMIN_PASSWORD" in result.stderr


def test_compose_file_matches_the_compose_spec_schema():
    check(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")


def test_dockerfile_passes_hadolint():
    check(tool("hadolint"), "Dockerfile")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint_and_the_workflow_schema(workflow):
    assert WORKFLOWS, "no workflows found"
    check(tool("actionlint"), str(workflow))
    check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifest_is_valid(manifest):
    check(tool("kubernetes-validate"), "--strict", str(manifest))
