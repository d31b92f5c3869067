"""Who reaches the service in Kubernetes: the pods read their API keys from a Secret, take traffic on the service
port only, and talk to nothing but DNS, Vault, HDFS, the database and the MLflow server."""

import httpx


def test_pods_read_the_api_key_store_from_a_secret(kubernetes, workload):
    pod = workload["spec"]["template"]["spec"]
    [container] = pod["containers"]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "api-keys"]
    [volume] = [v for v in pod["volumes"] if v["name"] == "api-keys"]
    assert volume["secret"]["secretName"] == "spam-service-api-keys" and mount["readOnly"] is True
    assert kubernetes["ConfigMap"]["data"]["API_KEYS_FILE"] == f"{mount['mountPath']}/api-keys.json"
    assert "AUTH" not in kubernetes["ConfigMap"]["data"]  # never off in the cluster


def test_the_network_policy_admits_the_service_port_only_and_lets_out_only_what_the_service_needs(kubernetes, workload):
    policy = kubernetes["NetworkPolicy"]["spec"]
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in policy["podSelector"]["matchLabels"].items())
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    [ingress] = policy["ingress"]
    assert ingress["ports"] == [{"port": 8000, "protocol": "TCP"}]
    container_ports = {p["containerPort"] for p in workload["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert container_ports == {8000}
    egress_ports = sorted({p["port"] for rule in policy["egress"] for p in rule["ports"]})
    assert egress_ports == [53, 5000, 5432, 8200, 9864, 9870]  # DNS, MLflow, PostgreSQL, Vault, datanode, namenode
    assert all(rule.get("to") for rule in policy["egress"])  # each to named namespaces, never to anywhere


def test_the_pods_may_reach_the_mlflow_server_the_config_names(kubernetes):
    # MLflow serves the model files itself (--serve-artifacts): its port is the only one a registry fetch needs.
    tracking = httpx.URL(kubernetes["ConfigMap"]["data"]["MLFLOW_TRACKING_URI"])
    namespace = tracking.host.split(".")[1]  # <service>.<namespace>.svc[.cluster.local]
    reachable = {
        (selector["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], port["port"])
        for rule in kubernetes["NetworkPolicy"]["spec"]["egress"]
        for selector in rule["to"]
        for port in rule["ports"]
    }
    assert (namespace, tracking.port) in reachable
    assert "MODEL_URI" not in kubernetes["ConfigMap"]["data"]  # the image's model until an operator picks a version


def test_clients_reach_the_client_routes_only_and_operator_routes_stay_in_the_cluster(kubernetes):
    ingress = kubernetes["Ingress"]["spec"]
    [rule] = ingress["rules"]
    exposed = {(p["path"], p["pathType"]) for p in rule["http"]["paths"]}
    assert exposed == {("/predict", "Exact"), ("/feedback", "Exact"), ("/", "Exact")}  # never a prefix of /status
    service = kubernetes["Service"]
    assert service["spec"]["type"] == "ClusterIP"  # no NodePort or LoadBalancer next to the Ingress
    backends = {p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert backends == {service["metadata"]["name"]}
    assert ingress["tls"] and ingress["tls"][0]["hosts"] == [rule["host"]]
