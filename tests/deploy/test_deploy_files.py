"""What the compose stack, the Hadoop configuration, the Dockerfile and the manifests must hold, checked by reading
them (no Docker engine runs here): each assertion is a property the stack depends on."""

import re

import pytest
import yaml

from tests.support import REPO_ROOT


@pytest.fixture(scope="module")
def hadoop() -> dict[str, str]:
    """Hadoop/config as {"hdfs-site.xml:dfs.replication": "1", ...}."""
    properties = {}
    for line in (REPO_ROOT / "Hadoop" / "config").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            file, name = key.split("_", 1)
            properties[f"{file.lower()}:{name}"] = value
    return properties


def depends(service: dict) -> dict[str, str]:
    return {name: spec["condition"] for name, spec in service.get("depends_on", {}).items()}


def test_the_stack_has_vault_hadoop_postgres_mlflow_and_the_service_from_the_official_images(compose):
    services = compose["services"]
    assert services["vault"]["image"].startswith("hashicorp/vault:")
    for name in ("namenode", "datanode", "hdfs-init"):
        assert services[name]["image"].startswith("apache/hadoop:")
    assert re.fullmatch(r"postgres:\d+-alpine", services["postgres"]["image"])  # a pinned major
    assert services["spam-service"]["build"]["context"] == "."
    assert services["mlflow"]["build"]["context"] == "./deploy/mlflow"
    assert all(":" in s["image"] and not s["image"].endswith(":latest") for s in services.values() if "image" in s)
    # The MLflow image's base: the official one, the version the project's mlflow pin names.
    [base] = re.findall(r"^FROM (\S+)", (REPO_ROOT / "deploy" / "mlflow" / "Dockerfile").read_text(), flags=re.M)
    assert re.fullmatch(r"ghcr\.io/mlflow/mlflow:v3\.\d+\.\d+", base)


def test_the_service_starts_only_after_its_certificate_vault_hdfs_postgres_and_mlflow_are_ready(compose):
    services = compose["services"]
    assert depends(services["spam-service"]) == {
        "secrets-init": "service_completed_successfully",
        "vault-init": "service_completed_successfully",
        "hdfs-init": "service_completed_successfully",
        "datanode": "service_healthy",
        "postgres": "service_healthy",
        "mlflow": "service_healthy",
    }
    assert depends(services["vault-init"]) == {"vault": "service_healthy"}
    assert depends(services["datanode"]) == {"namenode": "service_healthy"}
    assert depends(services["postgres"]) == {"secrets-init": "service_completed_successfully"}  # its passwords
    assert depends(services["mlflow"]) == {"postgres": "service_healthy"}
    for name in ("vault", "namenode", "datanode", "postgres", "mlflow", "spam-service"):
        assert services[name]["healthcheck"]["test"], name


def test_vault_credentials_reach_the_service_through_a_shared_volume_not_the_environment(compose):
    service, init = compose["services"]["spam-service"], compose["services"]["vault-init"]
    environment = service["environment"]
    assert not {"VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"} & set(environment)
    assert environment["VAULT_ROLE_ID_FILE"].startswith("/run/vault/")
    assert "vault-credentials:/run/vault:ro" in service["volumes"]
    assert "vault-credentials:/credentials" in init["volumes"]
    assert init["entrypoint"][-1] == "/bootstrap/bootstrap.sh" and "./vault:/bootstrap:ro" in init["volumes"]
    assert init["environment"]["CREDENTIALS_OWNER"].startswith("10001")  # the image's non-root uid


def test_no_secret_value_is_written_in_the_compose_file(compose):
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(?i)(token|secret_id|password)[ \t]*[:=][ \t]*['\"]?[A-Za-z0-9]{8,}", text)
    vault = compose["services"]["vault"]
    assert "VAULT_DEV_ROOT_TOKEN_ID" not in vault.get("environment", {})  # random, made at first start
    assert "/vault/root/token" in vault["entrypoint"][-1]


def test_vault_is_dev_mode_on_loopback_only(compose):
    vault = compose["services"]["vault"]
    assert "server -dev" in vault["entrypoint"][-1]
    assert all(port.startswith("127.0.0.1:") for port in vault["ports"])


def test_the_datanode_has_a_fixed_host_name_that_redirects_use(compose, hadoop):
    assert compose["services"]["datanode"]["hostname"] == "datanode"
    assert hadoop["hdfs-site.xml:dfs.datanode.hostname"] == "datanode"
    assert compose["services"]["namenode"]["hostname"] == "namenode"
    assert hadoop["core-site.xml:fs.defaultFS"] == "hdfs://namenode:8020"


def test_hdfs_is_single_node_with_webhdfs_and_appends_that_work_on_one_datanode(hadoop):
    assert hadoop["hdfs-site.xml:dfs.webhdfs.enabled"] == "true"
    assert hadoop["hdfs-site.xml:dfs.replication"] == "1"
    assert hadoop["hdfs-site.xml:dfs.client.block.write.replace-datanode-on-failure.policy"] == "NEVER"


def test_the_name_directory_persists_and_is_formatted_only_once(compose, hadoop):
    namenode = compose["services"]["namenode"]
    name_dir = hadoop["hdfs-site.xml:dfs.namenode.name.dir"].removeprefix("file://")
    # The image formats when ENSURE_NAMENODE_DIR is missing: it must be the name directory, inside the volume, so it
    # exists after the first start and the namenode is never reformatted.
    assert namenode["environment"]["ENSURE_NAMENODE_DIR"] == name_dir
    mount = next(v.split(":")[1] for v in namenode["volumes"] if v.startswith("namenode-data:"))
    assert name_dir.startswith(mount + "/") and name_dir != mount
    assert "namenode-data" in compose["volumes"] and "datanode-data" in compose["volumes"]
    data_dir = hadoop["hdfs-site.xml:dfs.datanode.data.dir"].removeprefix("file://")
    assert any(data_dir.startswith(v.split(":")[1] + "/") for v in compose["services"]["datanode"]["volumes"])


def test_the_service_keeps_its_spool_on_a_volume_and_the_hdfs_log_dir_is_its_own(compose):
    service, init = compose["services"]["spam-service"], compose["services"]["hdfs-init"]
    assert "spool:/app/spool" in service["volumes"]
    command = " ".join(init["command"])
    assert "hdfs dfs -mkdir -p /logs/spam-service" in command and "-chown spam-service /logs/spam-service" in command
    bootstrap_args = compose["services"]["vault-init"]["command"]
    assert bootstrap_args[bootstrap_args.index("--user") + 1] == "spam-service"  # the HDFS user in the Vault secret


def test_dockerfile_is_multi_stage_cpu_only_non_root_with_a_healthcheck():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, flags=re.M)) >= 4
    assert "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0" in dockerfile
    assert re.search(r"^USER 10001", dockerfile, flags=re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", dockerfile, flags=re.M)
    runtime = dockerfile[dockerfile.index("AS runtime\n") :]
    assert "requirements-pipeline" not in runtime and "COPY --from=model /weights" in runtime


def test_the_image_trains_with_every_dvc_stage_in_pipeline_order():
    """`MODEL_SOURCE=trained` runs the stages itself (no DVC in the image): the same commands, in dvc.yaml's order."""
    stages = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    run = re.search(r"^RUN (python -m spam_service\.pipeline\..*?)\n\n", dockerfile, re.M | re.S)
    assert run, "no RUN of the pipeline stages in the Dockerfile"
    in_image = re.findall(r"python -m (spam_service\.pipeline\.\w+)", run.group(1))
    assert in_image == [stage["cmd"].removeprefix("python -m ") for stage in stages.values()]


def test_dockerignore_lets_no_secret_or_cache_into_the_build_context():
    lines = [line for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "**"  # an allowlist: only what follows with ! goes in
    allowed = [line[1:] for line in lines if line.startswith("!")]
    assert not [a for a in allowed if a.startswith(("vault", ".env", ".git", ".venv", "spool", "logs", "models"))]


def test_kubernetes_pods_probes_resources_and_non_root(workload):
    pod = workload["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True and container["securityContext"]["readOnlyRootFilesystem"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/run/vault"]["readOnly"] and "/app/spool" in mounts
    config = yaml.safe_load((REPO_ROOT / "k8s" / "configmap.yaml").read_text())["data"]
    assert config["VAULT_ROLE_ID_FILE"] == "/run/vault/role_id" and "VAULT_SECRET_ID" not in config
    kustomization = yaml.safe_load((REPO_ROOT / "k8s" / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {p.name for p in (REPO_ROOT / "k8s").glob("*.yaml")} - {
        "kustomization.yaml"
    }


def image_spool_dir() -> str:
    """SPOOL_DIR as the image sets it (the runtime stage's ENV)."""
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    [spool_dir] = re.findall(r"\bSPOOL_DIR=(\S+)", dockerfile[dockerfile.index("AS runtime\n") :])
    return spool_dir


def pod_spool_dir(kubernetes: dict[str, dict]) -> str:
    return kubernetes["ConfigMap"]["data"].get("SPOOL_DIR", image_spool_dir())


def test_each_kubernetes_replica_keeps_its_spool_on_its_own_claim_through_rollouts_and_scale_in(kubernetes, workload):
    # An emptyDir dies with its pod: a rollout or an eviction while HDFS is down deleted the unshipped lines. A
    # StatefulSet gives each ordinal its own claim; the pod that comes back with that ordinal (same claim) claims the
    # spool directories its predecessor left and ships them.
    assert workload["kind"] == "StatefulSet"
    [container] = workload["spec"]["template"]["spec"]["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == pod_spool_dir(kubernetes)]
    claims = {claim["metadata"]["name"]: claim["spec"] for claim in workload["spec"]["volumeClaimTemplates"]}
    assert mount["name"] in claims, f"the spool ({mount['name']}) is not a volume claim template"
    assert mount["name"] not in {v["name"] for v in workload["spec"]["template"]["spec"].get("volumes", [])}
    claim = claims[mount["name"]]
    assert set(claim["accessModes"]) <= {"ReadWriteOnce", "ReadWriteOncePod"}  # one writer per spool
    assert claim["resources"]["requests"]["storage"]
    # Retain is the default; deleting claims on scale-in would drop what HDFS had not taken yet (README, Kubernetes).
    retention = workload["spec"].get("persistentVolumeClaimRetentionPolicy", {})
    assert retention.get("whenScaled", "Retain") == "Retain" and retention.get("whenDeleted", "Retain") == "Retain"


def test_kubernetes_autoscaler_budget_and_service_follow_the_workload(kubernetes, workload):
    target = kubernetes["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        workload["apiVersion"],
        workload["kind"],
        workload["metadata"]["name"],
    )
    labels = workload["spec"]["template"]["metadata"]["labels"]
    for selector in (
        workload["spec"]["selector"]["matchLabels"],
        kubernetes["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        kubernetes["Service"]["spec"]["selector"],
    ):
        assert selector.items() <= labels.items(), selector
    [container] = workload["spec"]["template"]["spec"]["containers"]
    port_names = {port["name"] for port in container["ports"]}
    assert {port["targetPort"] for port in kubernetes["Service"]["spec"]["ports"]} <= port_names
    # The autoscaler's new pods start together, not one at a time behind each other's readiness.
    assert workload["spec"].get("podManagementPolicy") == "Parallel"


def test_compose_keeps_the_spool_on_a_named_volume_where_the_image_spools(compose):
    service = compose["services"]["spam-service"]
    spool_dir = service.get("environment", {}).get("SPOOL_DIR", image_spool_dir())
    [source] = [v.split(":")[0] for v in service["volumes"] if v.split(":")[1] == spool_dir]
    # Named (not a bind mount, not the image's anonymous VOLUME): `up` recreating the container keeps it.
    assert source in compose["volumes"] and not source.startswith((".", "/", "~"))


def test_every_one_shot_service_is_adopted_so_up_wait_exits_zero(compose):
    # `docker compose up --wait` (the CD job) fails on a one-shot container's clean exit unless a long-running service
    # depends on it with service_completed_successfully (docker/compose#10596).
    services = compose["services"]
    one_shots = {name for name, service in services.items() if service.get("restart") == "no"}
    assert one_shots == {"secrets-init", "vault-token", "vault-init", "hdfs-init"}
    for one_shot in one_shots:
        adopters = [
            name
            for name, service in services.items()
            if name not in one_shots and depends(service).get(one_shot) == "service_completed_successfully"
        ]
        assert adopters, f"{one_shot} is not adopted by a long-running service"


def test_postgres_is_reached_inside_the_stack_only_and_keeps_its_data_on_a_named_volume(compose):
    postgres = compose["services"]["postgres"]
    assert "ports" not in postgres  # clients are containers of the stack: nothing published on the host
    [data] = [v.split(":")[0] for v in postgres["volumes"] if v.split(":")[1] == "/var/lib/postgresql/data"]
    assert data in compose["volumes"]
    # The image makes the databases with the init scripts of this directory, at its first start.
    assert "./deploy/postgres/init-databases.sh:/docker-entrypoint-initdb.d/init-databases.sh:ro" in postgres["volumes"]
    test = postgres["healthcheck"]["test"]
    # Over TCP: the image's temporary server of the init scripts listens on its socket only, not yet healthy.
    assert test[:2] == ["CMD", "pg_isready"] and test[test.index("--host") + 1] == "127.0.0.1"


def test_mlflow_serves_artifacts_from_a_named_volume_and_checks_its_health(compose):
    mlflow = compose["services"]["mlflow"]
    command = mlflow["command"]
    assert command[:2] == ["mlflow", "server"] and "--serve-artifacts" in command
    [destination] = [a.split("=", 1)[1] for a in command if a.startswith("--artifacts-destination=")]
    [volume] = [v.split(":")[0] for v in mlflow["volumes"] if v.split(":")[1] == destination]
    assert volume in compose["volumes"]
    # Docker copies the image directory's owner into a new volume: the server's user must own it there.
    dockerfile = (REPO_ROOT / "deploy" / "mlflow" / "Dockerfile").read_text()
    assert f"chown mlflow:mlflow {destination}" in dockerfile and re.search(r"^USER 10002", dockerfile, flags=re.M)
    assert "http://127.0.0.1:5000/health" in " ".join(mlflow["healthcheck"]["test"])


def postgres_urls(compose: dict) -> dict[str, str]:
    """Every PostgreSQL URL the stack's services are given, by service."""
    found = {}
    for name, service in compose["services"].items():
        texts = [*service.get("environment", {}).values(), *service.get("command", [])]
        for text in texts:
            match = re.search(r"postgresql(\+\w+)?://\S+", str(text))
            if match:
                found[name] = match.group(0)
    return found


def test_database_clients_get_a_password_file_of_their_own_and_urls_without_a_password(compose):
    from sqlalchemy.engine import make_url

    urls = postgres_urls(compose)
    assert set(urls) == {"mlflow", "spam-service"}
    services = compose["services"]
    init_mounts = {v.split(":")[0]: v.split(":")[1] for v in services["secrets-init"]["volumes"]}
    password_volumes = set()
    for name, url in urls.items():
        parsed = make_url(url)
        assert parsed.password is None and parsed.drivername == "postgresql+psycopg", name
        assert (parsed.host, parsed.port) == ("postgres", 5432), name
        # libpq reads the password from PGPASSFILE, on a volume secrets-init fills; no other service mounts it.
        pgpass = services[name]["environment"]["PGPASSFILE"]
        [volume] = [v.split(":")[0] for v in services[name]["volumes"] if pgpass.startswith(v.split(":")[1] + "/")]
        assert volume in init_mounts and volume in compose["volumes"], name
        mounted_by = {n for n, s in services.items() for v in s.get("volumes", []) if v.split(":")[0] == volume}
        assert mounted_by == {name, "secrets-init"}, volume
        password_volumes.add(volume)
    assert len(password_volumes) == len(urls)  # one file per client, holding its role's password alone
    # The server's passwords (its superuser's, each role's for the init script): the postgres service's alone.
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_PASSWORD_FILE"].startswith(postgres["environment"]["POSTGRES_SECRETS_DIR"])
    [secret_volume] = [
        v.split(":")[0]
        for v in postgres["volumes"]
        if v.split(":")[1] == postgres["environment"]["POSTGRES_SECRETS_DIR"]
    ]
    mounted_by = {n for n, s in services.items() for v in s.get("volumes", []) if v.split(":")[0] == secret_volume}
    assert mounted_by == {"postgres", "secrets-init"}
    assert not [
        k for s in services.values() for k in s.get("environment", {}) if k in {"PGPASSWORD", "POSTGRES_PASSWORD"}
    ]


def test_each_client_logs_in_as_the_role_that_owns_its_database(compose):
    from sqlalchemy.engine import make_url

    init_script = (REPO_ROOT / "deploy" / "postgres" / "init-databases.sh").read_text()
    secrets_script = (REPO_ROOT / "scripts" / "compose_secrets.sh").read_text()
    for url in postgres_urls(compose).values():
        parsed = make_url(url)
        assert f"CREATE ROLE {parsed.username} LOGIN" in init_script
        assert f"CREATE DATABASE {parsed.database} OWNER {parsed.username};" in init_script
        assert re.search(rf"^\s*write_pgpass \S+ \S+ {parsed.database} {parsed.username}$", secrets_script, re.M)


def test_the_service_uses_the_stacks_mlflow_and_caches_fetched_models_on_its_volume(compose):
    service = compose["services"]["spam-service"]
    environment = service["environment"]
    assert environment["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert "MODEL_URI" not in environment  # the image's baked model: the stack starts with nothing registered
    [data] = [v.split(":")[1] for v in service["volumes"] if v.split(":")[0] == "service-data"]
    assert environment["MODEL_CACHE_DIR"].startswith(data + "/")
    # /app/data is the image's directory the service's user may write (the Dockerfile chowns it).
    assert (
        data == "/app/data"
        and re.search(r"chown app:app [^\n]*/app/data\b", (REPO_ROOT / "Dockerfile").read_text()) is not None
    )


def test_every_named_volume_is_declared_and_used_and_every_service_shares_the_default_network(compose):
    used = {
        v.split(":")[0]
        for s in compose["services"].values()
        for v in s.get("volumes", [])
        if not v.startswith((".", "/", "~"))
    }
    assert used == set(compose["volumes"])
    assert not [name for name, s in compose["services"].items() if "networks" in s or "network_mode" in s]
