"""Shadow scoring adds no latency beyond noise: two `python -m spam_service` processes, one without a challenger and
one whose challenger (a copy of the trained model) scores every request (SHADOW_SAMPLE_RATE=1), measured with wrk
at 8 connections, interleaved off, on, off, on, so that drift of the machine (other load, frequency) shows in both.

`pytest tests/test_shadow_latency.py -s` prints the figures."""

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.model_copies import model_copy
from tests.support.samples import HAM, SPAM
from tests.support.service_process import ServiceProcess, start_service, stop, wait_until_ready
from tests.support.wrk import run_wrk

CONNECTIONS = 8
RUN_SECONDS = 5
# Allowed above the slowest shadow-off run: a share of it plus a floor for timer and scheduling granularity.
P50_MARGIN, P99_MARGIN, FLOOR_S = 0.35, 0.5, 0.005


@pytest.fixture(scope="module")
def services(trained_model_dir, tmp_path_factory) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    workdir = tmp_path_factory.mktemp("shadow-latency")
    challenger = model_copy(trained_model_dir, workdir / "challenger", version="challenger-1")
    off = start_service(trained_model_dir, workdir / "off", wait=False)
    on = start_service(
        trained_model_dir, workdir / "on", wait=False, SHADOW_MODEL_URI=str(challenger), SHADOW_SAMPLE_RATE="1.0"
    )  # started together: the two model loads overlap
    try:
        for running in (off, on):
            wait_until_ready(running.process, running.url)
        yield off, on
    finally:
        for running in (off, on):
            stop(running.process)


def shadow_idle(on: ServiceProcess) -> dict:
    """Wait until the challenger has scored what it holds (it would otherwise take CPU from the next run)."""
    deadline = time.monotonic() + 30
    while True:
        shadow = httpx.get(f"{on.url}/status", timeout=10).json()["shadow"]
        if shadow["queued_texts"] == 0 or time.monotonic() > deadline:
            return shadow
        time.sleep(0.1)


def test_shadow_scoring_every_request_adds_no_latency_beyond_noise_at_8_clients(services, tmp_path):
    off, on = services
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"text": [SPAM, HAM]}))  # two texts: a request is a few ms of CPU
    for running in (off, on):  # warm-up: first requests allocate buffers, fill caches
        run_wrk(f"{running.url}/predict", body, connections=CONNECTIONS, seconds=1)
    shadow_idle(on)
    before = httpx.get(f"{on.url}/status").json()["shadow"]
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for name in ("off", "on", "off", "on"):
        running = off if name == "off" else on
        result = run_wrk(f"{running.url}/predict", body, connections=CONNECTIONS, seconds=RUN_SECONDS)
        assert set(result["statuses"]) == {200}, result["output"]
        runs[name].append(result)
        print(
            f"shadow {name}: p50 {result['latency_p50_s'] * 1000:.1f} ms, p99 {result['latency_p99_s'] * 1000:.1f} "
            f"ms, {result['requests_per_s']:.0f} requests/s"
        )
        shadow_idle(on)
    after = shadow_idle(on)
    scored = after["scored"] - before["scored"]
    dropped = after["dropped"] - before["dropped"]
    on_texts = 2 * sum(sum(r["statuses"].values()) for r in runs["on"])
    print(f"challenger: {scored} texts scored, {dropped} dropped of {on_texts} answered with shadow on")
    # Else the test proves nothing: the challenger did score (and store) texts during the on runs.
    assert scored > 0 and after["sampled"] - before["sampled"] >= on_texts  # wrk does not count answers at its end
    [comparison] = httpx.get(f"{on.url}/statistics").json()["shadow"]
    assert comparison["challenger"]["predictions"] >= scored

    for percentile, margin in (("latency_p50_s", P50_MARGIN), ("latency_p99_s", P99_MARGIN)):
        noise_top = max(r[percentile] for r in runs["off"])
        allowed = noise_top * (1 + margin) + FLOOR_S
        worst_on = max(r[percentile] for r in runs["on"])
        assert worst_on <= allowed, (
            f"{percentile}: shadow on {worst_on * 1000:.1f} ms > {allowed * 1000:.1f} ms allowed (off runs: "
            f"{[round(r[percentile] * 1000, 1) for r in runs['off']]} ms)"
        )
