"""/metrics against a real uvicorn serving the trained model: what the service did is what Prometheus reads."""

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

SPAM = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply, reply STOP to end"
HAM = "Hey, are we still meeting for lunch tomorrow at 1? Let me know"


class Scrape:
    """One scrape of /metrics, parsed by prometheus_client's own parser."""

    def __init__(self, url: str) -> None:
        response = httpx.get(f"{url}/metrics")
        assert response.status_code == 200, response.text
        self.content_type = response.headers["content-type"]
        self.text = response.text
        self.samples = [sample for family in text_string_to_metric_families(self.text) for sample in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when the service has not exported it (a counter never incremented)."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, (name, labels)
        return found[0] if found else 0.0

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [s.labels for s in self.samples if s.name == name]


@pytest.fixture
def server(make_app, live_server_factory):
    # Small limits, so that a 413 needs only a few kilobytes.
    app, settings = make_app(max_texts_per_request=4, max_text_chars=200)
    live = live_server_factory(app)
    live.settings = settings
    return live


def predict(url: str, texts: list, method: str = "POST") -> httpx.Response:
    return httpx.request(method, f"{url}/predict", json={"text": texts})


def test_requests_are_counted_by_route_template_method_and_status(server):
    for texts in ([SPAM, HAM], [HAM], [SPAM]):
        assert predict(server.url, texts).status_code == 200
    assert predict(server.url, [HAM], method="GET").status_code == 200
    assert predict(server.url, [1]).status_code == 422
    assert predict(server.url, [HAM] * 5).status_code == 422  # over MAX_TEXTS_PER_REQUEST
    invalid = httpx.post(f"{server.url}/predict", content=b"{not json", headers={"content-type": "application/json"})
    assert invalid.status_code == 400
    too_large = httpx.post(
        f"{server.url}/predict",
        content=b" " * (server.settings.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    assert too_large.status_code == 413
    assert httpx.put(f"{server.url}/predict").status_code == 405
    for path in ("/no/such/path", "/wp-admin/setup.php", "/predict/extra"):
        assert httpx.get(f"{server.url}{path}").status_code in (404, 307)

    scrape = Scrape(server.url)
    requests = "spam_service_http_requests_total"
    assert scrape.value(requests, route="/predict", method="POST", status="200") == 3
    assert scrape.value(requests, route="/predict", method="GET", status="200") == 1
    assert scrape.value(requests, route="/predict", method="POST", status="422") == 2
    assert scrape.value(requests, route="/predict", method="POST", status="400") == 1
    assert scrape.value(requests, route="/predict", method="POST", status="413") == 1  # refused before routing
    assert scrape.value(requests, route="/predict", method="PUT", status="405") == 1
    assert scrape.value(requests, route="/health", method="GET", status="200") >= 1  # the fixture's start-up probe
    # Paths no route matches share one label: random URLs add no series.
    routes = {labels["route"] for labels in scrape.labels_of(requests)}
    assert routes == {"/predict", "/health", "unmatched"}
    unmatched = sum(v for v in (s.value for s in scrape.samples if s.labels.get("route") == "unmatched"))
    assert unmatched >= 3
    assert "/no/such/path" not in scrape.text and "wp-admin" not in scrape.text

    duration = "spam_service_http_request_duration_seconds"
    assert scrape.value(f"{duration}_count", route="/predict", method="POST") == 3 + 2 + 1 + 1
    assert 0 < scrape.value(f"{duration}_sum", route="/predict", method="POST") < 60
    buckets = [s for s in scrape.samples if s.name == f"{duration}_bucket" and s.labels["route"] == "/predict"]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "0.1", "1.0", "10.0", "+Inf"}

    # The scrape itself is counted, but not timed.
    again = Scrape(server.url)
    assert again.value(requests, route="/metrics", method="GET", status="200") == 1
    assert not [labels for labels in again.labels_of(f"{duration}_count") if labels["route"] == "/metrics"]


def test_predictions_by_label_and_texts_per_request_match_the_answers(server, trained_classifier):
    bodies = [[SPAM, HAM, HAM], [SPAM], [HAM], [SPAM, SPAM, HAM, HAM]]
    answered = []
    for texts in bodies:
        response = predict(server.url, texts)
        assert response.status_code == 200
        answered += [p["label"] for p in response.json()["predictions"]]
    assert predict(server.url, [HAM] * 5).status_code == 422  # refused: no predictions, no texts observed

    scrape = Scrape(server.url)
    by_model = {"model_version": trained_classifier.version}
    assert scrape.value("spam_service_predictions_total", label="spam", **by_model) == answered.count("spam") == 4
    assert scrape.value("spam_service_predictions_total", label="ham", **by_model) == answered.count("ham") == 5
    texts = "spam_service_predict_texts_per_request"
    assert scrape.value(f"{texts}_count") == len(bodies)
    assert scrape.value(f"{texts}_sum") == sum(len(b) for b in bodies)
    assert scrape.value(f"{texts}_bucket", le="1.0") == 2
    assert scrape.value(f"{texts}_bucket", le="2.0") == 2
    assert scrape.value(f"{texts}_bucket", le="4.0") == 4


def test_inference_batches_model_info_and_request_log_state_are_exported(server, trained_classifier):
    fresh = Scrape(server.url)
    # Exported before the first prediction, at 0, so that rate() and the spam share work from the first scrape.
    by_model = {"model_version": trained_classifier.version}
    assert fresh.value("spam_service_predictions_total", label="spam", **by_model) == 0
    assert {"label": "ham", **by_model} in fresh.labels_of("spam_service_predictions_total")

    bodies = [[SPAM, HAM], [HAM], [SPAM, SPAM, HAM]]
    for texts in bodies:
        assert predict(server.url, texts).status_code == 200
    scrape = Scrape(server.url)
    status = httpx.get(f"{server.url}/status").json()

    batch_texts = "spam_service_inference_batch_texts"
    assert scrape.value(f"{batch_texts}_sum") == status["inference"]["texts"] == 6
    assert scrape.value(f"{batch_texts}_count") == status["inference"]["batches"] >= 1
    batch_seconds = "spam_service_inference_batch_duration_seconds"
    assert scrape.value(f"{batch_seconds}_count") == status["inference"]["batches"]
    assert 0 < scrape.value(f"{batch_seconds}_sum") < 30

    assert scrape.labels_of("spam_service_model_info") == [
        {
            "name": trained_classifier.name,
            "version": trained_classifier.version,
            "backend": trained_classifier.backend,
            "registry_version": "",  # served from a directory
        }
    ]
    assert [s.value for s in scrape.samples if s.name == "spam_service_model_info"] == [1]

    log = status["request_log"]
    assert scrape.value("spam_service_request_log_lines_written_total", kind="file") == log["lines_written"] == 3
    assert scrape.value("spam_service_request_log_lines_waiting", kind="file") == 0
    assert scrape.value("spam_service_request_log_ready", kind="file") == 1
    assert scrape.value("spam_service_request_log_errors_total", kind="file") == 0
    assert scrape.value("process_resident_memory_bytes") > 0


def test_request_log_failures_show_as_errors_and_not_ready(make_app, live_server_factory, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log directory should be")
    app, _ = make_app(request_log_dir=blocker / "logs")
    live = live_server_factory(app)
    for _ in range(2):
        assert predict(live.url, [HAM]).status_code == 503

    scrape = Scrape(live.url)
    assert scrape.value("spam_service_request_log_lines_waiting", kind="file") == 0  # refused, not held
    assert scrape.value("spam_service_request_log_errors_total", kind="file") >= 1
    assert scrape.value("spam_service_request_log_ready", kind="file") == 0
    assert scrape.value("spam_service_request_log_lines_written_total", kind="file") == 0


def test_metrics_speak_the_prometheus_text_format_or_openmetrics_when_asked(server):
    plain = httpx.get(f"{server.url}/metrics")
    assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE spam_service_http_requests_total counter" in plain.text
    openmetrics = httpx.get(f"{server.url}/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def test_each_app_counts_only_its_own_requests(make_app, live_server_factory, trained_classifier):
    first, second = (live_server_factory(make_app()[0]) for _ in range(2))
    assert predict(first.url, [SPAM]).status_code == 200
    spam = {"label": "spam", "model_version": trained_classifier.version}
    assert Scrape(first.url).value("spam_service_predictions_total", **spam) == 1
    assert Scrape(second.url).value("spam_service_predictions_total", **spam) == 0
