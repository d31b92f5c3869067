"""The deployment files as the tests read them: the compose file, and the Kubernetes objects kustomize applies."""

import pytest
import yaml

from tests.support import REPO_ROOT

K8S = REPO_ROOT / "k8s"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def kubernetes() -> dict[str, dict]:
    """Every object `kubectl apply -k k8s/` creates, by kind (one of each kind here)."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    objects: dict[str, dict] = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((K8S / resource).read_text()):
            assert document["kind"] not in objects, f"two {document['kind']} objects: the tests expect one"
            objects[document["kind"]] = document
    return objects


@pytest.fixture(scope="module")
def workload(kubernetes: dict[str, dict]) -> dict:
    """The one object that runs the service's pods."""
    [found] = [o for kind, o in kubernetes.items() if kind in WORKLOAD_KINDS]
    return found
