"""Prometheus and Grafana in the compose stack, checked by reading their files (no Docker engine runs here): the
scrape target is the service, Grafana finds its data source and dashboard where compose mounts them, and every metric
the dashboard queries is one the service really exports (renaming a metric fails here, not on a blank panel)."""

import json
import re
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support import REPO_ROOT

MONITORING = REPO_ROOT / "monitoring"
DASHBOARDS = sorted((MONITORING / "grafana" / "dashboards").glob("*.json"))
# PromQL words that are not metric names: aggregation modifiers, operators, keywords.
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}


def mounts(service: dict) -> dict[str, str]:
    """Bind mounts of a compose service: {path in the repository: path in the container}."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[source.removeprefix("./").rstrip("/")] = target
    return found


def container_port(service: dict) -> int:
    """The port the container listens on, from a `host:container` mapping (the host side may be a variable)."""
    [mapping] = service["ports"]
    return int(mapping.rsplit(":", 1)[1])


def dashboard_exprs(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers left once label matchers, strings, range windows
    and `by (...)` groups are removed, that are not functions (followed by `(`) nor PromQL words."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stripped = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", stripped)
    stripped = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", stripped)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", stripped):
        following = stripped[match.end() :].lstrip()
        if match.group() not in PROMQL_WORDS and not following.startswith("("):
            names.add(match.group())
    return names


def test_metric_names_are_found_in_promql():
    expr = 'histogram_quantile(0.95, sum by (le) (rate(a_bucket{route="/x", s=~"4.."}[5m]))) / sum(b_total) or c'
    assert metric_names(expr) == {"a_bucket", "b_total", "c"}


def test_prometheus_scrapes_the_services_metrics_by_its_compose_name_and_port(compose):
    services = compose["services"]
    prometheus = services["prometheus"]
    assert mounts(prometheus)["monitoring/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "spam-service"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    assert targets == [f"spam-service:{container_port(services['spam-service'])}"]
    assert prometheus["healthcheck"]["test"] and prometheus["ports"] == ["127.0.0.1:9090:9090"]


def named_volume_mounts(service: dict) -> dict[str, str]:
    """Named volumes of a compose service: {volume: path in the container}."""
    return {
        volume.split(":")[0]: volume.split(":")[1]
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/", "~"))
    }


def test_prometheus_scrapes_over_https_verifying_the_certificate_with_the_stacks_ca(compose):
    services = compose["services"]
    config = yaml.safe_load((MONITORING / "prometheus" / "prometheus.yml").read_text())
    [job] = [job for job in config["scrape_configs"] if job["job_name"] == "spam-service"]
    assert job["scheme"] == "https"
    assert not job["tls_config"].get("insecure_skip_verify", False)
    # The CA file is the one in the volume the service's certificate comes from.
    ca_file = Path(job["tls_config"]["ca_file"])
    certificate = Path(services["spam-service"]["environment"]["TLS_CERT_FILE"])
    [volume] = [
        v for v, path in named_volume_mounts(services["spam-service"]).items() if Path(path) == certificate.parent
    ]
    assert ca_file.parent == Path(named_volume_mounts(services["prometheus"])[volume])
    assert services["prometheus"]["depends_on"]["secrets-init"]["condition"] == "service_completed_successfully"


def test_grafana_provisions_the_prometheus_data_source_and_the_dashboard_directory_as_mounted(compose):
    grafana = compose["services"]["grafana"]
    bound = mounts(grafana)
    assert bound["monitoring/grafana/provisioning"] == "/etc/grafana/provisioning"
    [datasources] = (MONITORING / "grafana" / "provisioning" / "datasources").glob("*.yml")
    [source] = yaml.safe_load(datasources.read_text())["datasources"]
    prometheus_port = container_port(compose["services"]["prometheus"])
    assert source["type"] == "prometheus" and source["url"] == f"http://prometheus:{prometheus_port}"
    [providers] = (MONITORING / "grafana" / "provisioning" / "dashboards").glob("*.yml")
    [provider] = yaml.safe_load(providers.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == bound["monitoring/grafana/dashboards"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (
        Path(home).parent.as_posix() == provider["options"]["path"]
        and (REPO_ROOT / "monitoring/grafana/dashboards" / Path(home).name).is_file()
    )
    for dashboard in DASHBOARDS:
        panels = json.loads(dashboard.read_text())["panels"]
        assert {panel["datasource"]["uid"] for panel in panels} == {source["uid"]}, dashboard.name
    assert depends_on_healthy(grafana) == {"prometheus"}


def depends_on_healthy(service: dict) -> set[str]:
    return {name for name, spec in service.get("depends_on", {}).items() if spec["condition"] == "service_healthy"}


def test_the_grafana_admin_password_is_read_from_the_file_secrets_init_generates(compose):
    grafana = compose["services"]["grafana"]
    environment = grafana["environment"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in environment  # never a value in the environment
    password_file = Path(environment["GF_SECURITY_ADMIN_PASSWORD__FILE"])
    [volume] = [v for v, path in named_volume_mounts(grafana).items() if Path(path) == password_file.parent]
    init = compose["services"]["secrets-init"]
    assert f"{volume}:{init['environment'].get('GRAFANA_DIR', '/secrets/grafana')}" in init["volumes"]
    assert grafana["depends_on"]["secrets-init"]["condition"] == "service_completed_successfully"
    assert f"{volume}:{password_file.parent}:ro" in grafana["volumes"]
    assert environment["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"  # anonymous visitors only view
    assert compose["services"]["grafana"]["ports"] == ["127.0.0.1:3000:3000"]
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().splitlines()
    for path in MONITORING.rglob("*"):
        if path.is_file():
            assert not re.search(r"(?i)password", path.read_text()), path


def test_the_dashboard_has_the_panels_an_operator_needs():
    [dashboard_file] = DASHBOARDS
    dashboard = json.loads(dashboard_file.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {
        "Throughput",
        "/predict latency",
        "Spam share",
        "Errors",
        "Request log backlog",
        "Inference batches",
    } <= titles
    exprs = " ".join(dashboard_exprs(dashboard))
    for quantile in ("0.5", "0.95", "0.99"):
        assert (
            f"histogram_quantile({quantile}, sum by (le) (rate(spam_service_http_request_duration_seconds_bucket"
            in exprs
        )
    assert 'status=~"4.."' in exprs and 'status=~"5.."' in exprs
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"]
    for expr in dashboard_exprs(dashboard):
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr


@pytest.mark.parametrize("dashboard_file", DASHBOARDS, ids=lambda p: p.name)
def test_every_metric_the_dashboard_queries_is_exported_by_the_service(dashboard_file, make_app, live_server_factory):
    app, _ = make_app()
    live = live_server_factory(app)
    # One of each kind of request, so that every labelled series exists.
    assert (
        httpx.post(f"{live.url}/predict", json={"text": ["WIN a prize! txt CLAIM now", "see you at 7?"]}).status_code
        == 200
    )
    assert httpx.post(f"{live.url}/predict", json={"text": [1]}).status_code == 422
    exported = {
        sample.name
        for family in text_string_to_metric_families(httpx.get(f"{live.url}/metrics").text)
        for sample in family.samples
    }
    dashboard = json.loads(dashboard_file.read_text())
    used = set().union(*(metric_names(expr) for expr in dashboard_exprs(dashboard)))
    assert used, "no metric found in the dashboard's queries"
    assert not used - exported, f"the dashboard queries metrics the service does not export: {sorted(used - exported)}"


def test_kubernetes_pods_are_annotated_for_prometheus_discovery(workload):
    pod = workload["spec"]["template"]
    annotations = pod["metadata"]["annotations"]
    [container] = pod["spec"]["containers"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) in {port["containerPort"] for port in container["ports"]}
