"""ServiceMetrics' rate-limit counter: one series per key name and route class, exported under the documented name."""

from prometheus_client import generate_latest

from spam_service.observability.prometheus import ServiceMetrics


def test_rate_limited_requests_are_counted_per_key_name_and_class():
    metrics = ServiceMetrics()
    metrics.observe_rate_limited("ci-bot", "predict")
    metrics.observe_rate_limited("ci-bot", "predict")
    metrics.observe_rate_limited("ci-bot", "feedback")
    metrics.observe_rate_limited("dashboard", "predict")

    def count(key: str, kind: str) -> float | None:
        return metrics.registry.get_sample_value("spam_service_rate_limited_total", {"key": key, "kind": kind})

    assert count("ci-bot", "predict") == 2
    assert count("ci-bot", "feedback") == 1
    assert count("dashboard", "predict") == 1
    assert count("dashboard", "admin") is None  # no series until a refusal happens
    assert b'spam_service_rate_limited_total{key="ci-bot",kind="predict"} 2.0' in generate_latest(metrics.registry)
