"""The grace periods cover the whole graceful shutdown: the preStop pause, uvicorn's drain of open requests, then the
challenger's stop, the prediction store's and the request log's closes with their thread joins, then the Vault
renewal's. Summed from the manifest, the compose file and the code's own constants: raising a timeout in the code
fails here, not as a SIGKILL that cuts the spool's shipping short on a rollout."""

import ast
import inspect
import re
import textwrap
from collections.abc import Callable

from spam_service.api.server import GRACEFUL_SHUTDOWN_TIMEOUT_S
from spam_service.model.shadow import ShadowScorer
from spam_service.prediction_store import PredictionStore
from spam_service.request_log import HdfsRequestLogSink
from spam_service.runtime import (
    MODEL_WATCHER_STOP_TIMEOUT_S,
    PREDICTION_STORE_CLOSE_TIMEOUT_S,
    REQUEST_LOG_CLOSE_TIMEOUT_S,
    SHADOW_STOP_TIMEOUT_S,
)
from spam_service.vault import VaultSession

# What no constant bounds: the micro-batcher finishing the batches already queued, logging's flush, process exit,
# all on a throttled CPU.
MARGIN_S = 10


def join_wait_past_timeout(function: Callable) -> float:
    """Seconds `function` may block in thread joins beyond the timeout it is given: the numeric literals in each
    `join(...)` call (`join(timeout + 1)` -> 1, `join(max(0.1, left) + 5.0)` -> 5, `join(timeout=5)` -> 5)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    joins = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and not isinstance(node.func.value, ast.Constant)  # ", ".join(...)
    ]
    assert joins, f"{function.__qualname__} joins no thread any more: update how this test bounds its wait"
    total = 0.0
    for join in joins:
        arguments = [*join.args, *(keyword.value for keyword in join.keywords)]
        numbers = [
            node.value
            for argument in arguments
            for node in ast.walk(argument)
            if isinstance(node, ast.Constant) and isinstance(node.value, int | float)
        ]
        total += max(numbers, default=0)
    return total


def services_close_s() -> float:
    """The longest `Services.close` waits, in runtime.py's order, once uvicorn has drained."""
    return (
        MODEL_WATCHER_STOP_TIMEOUT_S
        + SHADOW_STOP_TIMEOUT_S
        + join_wait_past_timeout(ShadowScorer.stop)
        + PREDICTION_STORE_CLOSE_TIMEOUT_S
        + join_wait_past_timeout(PredictionStore.close)
        + REQUEST_LOG_CLOSE_TIMEOUT_S
        + join_wait_past_timeout(HdfsRequestLogSink.close)
        + join_wait_past_timeout(VaultSession.stop)
    )


def pre_stop_s(container: dict) -> float:
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if pre_stop is None:
        return 0
    if "sleep" in pre_stop:
        return pre_stop["sleep"]["seconds"]
    command = pre_stop["exec"]["command"]
    assert command[0] == "sleep" and len(command) == 2, f"a preStop this test cannot bound: {command}"
    return float(command[1])


def compose_duration_s(duration: str) -> float:
    """`1m30s`, `90s`, `500ms` as seconds (compose's duration format)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", duration)
    assert parts and "".join(number + unit for number, unit in parts) == duration, duration
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit] for n, unit in parts)


def test_the_join_waits_are_read_from_each_kind_of_call():
    def joins(thread, timeout, deadline):
        thread.join(timeout + 1)
        thread.join(max(0.1, deadline) + 5.0)
        thread.join(timeout=5)
        ", ".join(["not", "a", "thread"])

    assert join_wait_past_timeout(joins) == 11


def test_the_code_shuts_down_in_bounded_time_under_a_minute_after_the_drain():
    # Each close is bounded and the sum stays small beside the drain: a close that grew past this needs its
    # own look (a grace period of minutes holds up every rollout).
    assert 0 < services_close_s() <= 60
    assert 0 < GRACEFUL_SHUTDOWN_TIMEOUT_S <= 60


def test_kubernetes_grace_period_covers_pre_stop_drain_and_closes(workload):
    pod = workload["spec"]["template"]["spec"]
    [container] = pod["containers"]
    needed = pre_stop_s(container) + GRACEFUL_SHUTDOWN_TIMEOUT_S + services_close_s() + MARGIN_S
    assert pod["terminationGracePeriodSeconds"] >= needed, (
        f"terminationGracePeriodSeconds {pod['terminationGracePeriodSeconds']} < {needed}: preStop "
        f"{pre_stop_s(container)} + drain {GRACEFUL_SHUTDOWN_TIMEOUT_S} + closes {services_close_s()} + margin"
    )


def test_compose_stop_grace_period_covers_drain_and_closes(compose):
    # No preStop in compose: `docker compose stop` (and `up` recreating the container) sends SIGTERM at once.
    service = compose["services"]["spam-service"]
    needed = GRACEFUL_SHUTDOWN_TIMEOUT_S + services_close_s() + MARGIN_S
    assert compose_duration_s(service["stop_grace_period"]) >= needed
