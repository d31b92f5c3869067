"""The deployment files pass the real validators, offline: the Compose v2 parser, the compose-spec and GitHub
workflow schemas, hadolint, actionlint and kubernetes-validate (all from requirements-dev.txt; missing = failure)."""

import json
import os
import re
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


def compose_command(*arguments: str) -> list[str]:
    """docker-compose on the repository's compose file, reading no .env: a developer's own must not hide a variable
    the stack cannot start without."""
    return [tool("docker-compose"), "--env-file", os.devnull, "-f", "docker-compose.yml", *arguments]


def environment_without_compose_variables() -> dict[str, str]:
    """This process's environment less every variable the compose file reads."""
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    read = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text)) | {"GRAFANA_ADMIN_PASSWORD"}
    return {name: value for name, value in os.environ.items() if name not in read}


def test_compose_file_parses_with_the_real_compose_v2_and_no_variable_set():
    # `docker compose up` needs no step before it: what once had to be set first is generated (secrets-init).
    check(*compose_command("config", "-q"), env=environment_without_compose_variables())


def resolved_service(service: str, **variables: str) -> dict:
    result = subprocess.run(
        compose_command("config", "--format", "json"),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**environment_without_compose_variables(), **variables},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["services"][service]


def test_the_service_port_is_published_on_loopback_unless_a_variable_says_otherwise():
    [default] = resolved_service("spam-service")["ports"]
    assert (default["host_ip"], default["published"], default["target"]) == ("127.0.0.1", "8000", 8000)
    [everywhere] = resolved_service("spam-service", SPAM_SERVICE_BIND="0.0.0.0", PORT="8443")["ports"]
    assert (everywhere["host_ip"], everywhere["published"]) == ("0.0.0.0", "8443")


def test_mlflow_is_published_on_loopback_only_and_postgres_not_at_all():
    [mlflow] = resolved_service("mlflow")["ports"]
    assert (mlflow["host_ip"], mlflow["published"], mlflow["target"]) == ("127.0.0.1", "5000", 5000)
    [moved] = resolved_service("mlflow", MLFLOW_PORT="5055")["ports"]
    assert (moved["host_ip"], moved["published"]) == ("127.0.0.1", "5055")  # another port, never another interface
    assert not resolved_service("postgres").get("ports")


def test_compose_file_matches_the_compose_spec_schema():
    check(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "deploy/mlflow/Dockerfile"])
def test_dockerfile_passes_hadolint(dockerfile):
    check(tool("hadolint"), dockerfile)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint_and_the_workflow_schema(workflow):
    assert WORKFLOWS, "no workflows found"
    check(tool("actionlint"), str(workflow))
    check(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow))


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifest_is_valid(manifest):
    check(tool("kubernetes-validate"), "--strict", str(manifest))
