"""Prometheus metrics of one app, in a registry of its own (never the process-wide default one), so that several
apps in one process (tests) do not collide.

HTTP requests are observed by the request middleware, forward passes by the micro-batcher (through a callback),
predictions in /predict, rate-limit refusals where they are decided; the request log's state is read from the sink
at scrape time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from spam_service.model.labels import HAM, LABELS, SPAM
from spam_service.request_log import SinkStatus
from spam_service.supervision import ThreadStatus

if TYPE_CHECKING:
    from spam_service.model.shadow import ShadowStatus

PREFIX = "spam_service"
UNMATCHED_ROUTE = "unmatched"  # one label for every path no route matches: random URLs cannot add series
OTHER_METHOD = "other"
KNOWN_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
# Scrapes are counted but not timed: a scrape every few seconds would skew the latency percentiles.
UNTIMED_ROUTES = frozenset({"/metrics"})

# 5 ms (a lone short text) to 10 s (a full request queued behind a long batch).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
# A forward pass: ~1 ms (one short text, int8) to seconds (a large batch on torch fp32).
INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
COUNT_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class RequestLogCollector:
    """The request log's state, read from the sink's `status()` when Prometheus scrapes (nothing to keep in step)."""

    def __init__(self) -> None:
        self.status: Callable[[], SinkStatus] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.status is None:  # before the lifespan has built the sink
            return
        status = self.status()
        gauge, counter = GaugeMetricFamily, CounterMetricFamily
        families: list[tuple[type[Metric], str, str, float]] = [
            (gauge, "lines_waiting", "Lines accepted, not yet at their destination.", status.lines_waiting),
            (gauge, "bytes_waiting", "Bytes in the spool waiting for HDFS.", status.bytes_waiting),
            (gauge, "ready", "1 while lines are stored durably before answers go out.", status.ready),
            (counter, "lines_written", "Lines at their destination since start-up.", status.lines_written),
            (counter, "errors", "Failed attempts to store or ship lines (each retry counts).", status.errors),
        ]
        if status.connected is not None:
            families.append((gauge, "connected", "1 while the last call to HDFS succeeded.", status.connected))
        for kind, name, documentation, value in families:
            metric = kind(f"{PREFIX}_request_log_{name}", documentation, labels=["kind"])
            metric.add_metric([status.kind], float(value))
            yield metric


@dataclass(frozen=True, slots=True)
class QueueState:
    queued_texts: int
    refused_overloaded: int
    refused_deadline: int


class StateCollector:
    """Background threads and the inference queue, read at scrape time like the request log."""

    def __init__(self) -> None:
        self.threads: Callable[[], Sequence[ThreadStatus]] | None = None
        self.queue: Callable[[], QueueState] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.threads is not None:
            up = GaugeMetricFamily(f"{PREFIX}_thread_up", "1 while the background thread runs.", labels=["thread"])
            crashes = CounterMetricFamily(
                f"{PREFIX}_thread_crashes", "Times the background thread died (and was restarted).", labels=["thread"]
            )
            for thread in self.threads():
                up.add_metric([thread.name], float(thread.alive))
                crashes.add_metric([thread.name], float(thread.crashes))
            yield up
            yield crashes
        if self.queue is not None:
            queue = self.queue()
            yield GaugeMetricFamily(
                f"{PREFIX}_inference_queued_texts", "Texts waiting for or in inference.", value=queue.queued_texts
            )
            refused = CounterMetricFamily(
                f"{PREFIX}_predict_refused",
                "/predict requests answered 503: overloaded (queue full) or past their deadline.",
                labels=["reason"],
            )
            refused.add_metric(["overloaded"], float(queue.refused_overloaded))
            refused.add_metric(["deadline"], float(queue.refused_deadline))
            yield refused


SHADOW_OUTCOMES = ("offered", "sampled", "scored", "dropped")


class ShadowCollector:
    """The challenger's shadow scoring, read from the scorer's `status()` at scrape time (absent when it is off)."""

    def __init__(self) -> None:
        self.status: Callable[[], ShadowStatus] | None = None

    def collect(self) -> Iterator[Metric]:
        if self.status is None:
            return
        status = self.status()
        texts = CounterMetricFamily(
            f"{PREFIX}_shadow_texts",
            "Texts offered to the challenger (every /predict text), sampled for it, scored by it (stored beside the "
            "served model's), or dropped (queue full, scoring failed, shutdown came first, or the store was full).",
            labels=["outcome", "model_version"],
        )
        for outcome in SHADOW_OUTCOMES:
            texts.add_metric([outcome, status.model_version], float(getattr(status, outcome)))
        yield texts
        yield GaugeMetricFamily(
            f"{PREFIX}_shadow_queued_texts",
            "Texts waiting for or being scored by the challenger.",
            value=status.queued_texts,
        )


class ServiceMetrics:
    """The metric definitions and the cheap calls the request path makes on them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from receiving a request to the end of its answer (scrapes of /metrics excluded).",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.texts_per_request = Histogram(
            f"{PREFIX}_predict_texts_per_request",
            "Texts in each answered /predict request.",
            buckets=COUNT_BUCKETS,
            registry=registry,
        )
        self.predictions = Counter(
            f"{PREFIX}_predictions",
            "Texts classified, by predicted label and the version of the model that classified them.",
            ["label", "model_version"],
            registry=registry,
        )
        self.inference_batch_texts = Histogram(
            f"{PREFIX}_inference_batch_texts",
            "Texts in each coalesced inference batch (one or more requests).",
            buckets=COUNT_BUCKETS,
            registry=registry,
        )
        self.inference_duration = Histogram(
            f"{PREFIX}_inference_batch_duration_seconds",
            "Time the model took for one coalesced batch, on its worker thread.",
            buckets=INFERENCE_BUCKETS,
            registry=registry,
        )
        # Key *names* (operator-chosen, a handful), never the keys themselves.
        self.rate_limited = Counter(
            f"{PREFIX}_rate_limited",
            "Requests refused (429) by the per-key rate limits, by API key name and route class.",
            ["key", "kind"],
            registry=registry,
        )
        self.model = Info(
            f"{PREFIX}_model", "The model served: name, version, engine, registry version.", registry=registry
        )
        self.request_log = RequestLogCollector()
        registry.register(self.request_log)
        self.state = StateCollector()
        registry.register(self.state)
        self.shadow = ShadowCollector()
        registry.register(self.shadow)
        ProcessCollector(registry=registry)  # CPU, resident memory, open files of this process
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        # Label children resolved once per label set, not on every request.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram | None]] = {}
        # Per model version, both labels, resolved once: {version: {label: child}}.
        self._label_children: dict[str, dict[str, Counter]] = {}
        self._model_version = ""

    def set_model(self, *, name: str, version: str, backend: str, registry_version: str | None = None) -> None:
        """The model serving now (again at each swap): its registry version is "" when served from a directory."""
        self.model.info(
            {"name": name, "version": version, "backend": backend, "registry_version": registry_version or ""}
        )
        self._model_version = version
        self._prediction_children(version)  # both labels exported at 0, so rate() and the spam share work at once

    def _prediction_children(self, version: str) -> dict[str, Counter]:
        children = self._label_children.get(version)
        if children is None:
            children = {label: self.predictions.labels(label=label, model_version=version) for label in LABELS}
            self._label_children[version] = children
        return children

    def watch_request_log(self, status: Callable[[], SinkStatus]) -> None:
        self.request_log.status = status

    def watch_state(self, threads: Callable[[], Sequence[ThreadStatus]], queue: Callable[[], QueueState]) -> None:
        self.state.threads = threads
        self.state.queue = queue

    def watch_shadow(self, status: Callable[[], ShadowStatus]) -> None:
        self.shadow.status = status

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        if method not in KNOWN_METHODS:
            method = OTHER_METHOD
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:
            timer = None if route in UNTIMED_ROUTES else self.request_duration.labels(route=route, method=method)
            children = (self.requests.labels(route=route, method=method, status=str(status)), timer)
            self._request_children[key] = children
        counter, timer = children
        counter.inc()
        if timer is not None:
            timer.observe(seconds)

    def observe_predictions(self, labels: Sequence[str], model_version: str | None = None) -> None:
        """One answered /predict request: the label of each of its texts, and the version of the model that gave
        them (default: the one `set_model` named last)."""
        self.texts_per_request.observe(len(labels))
        children = self._prediction_children(model_version or self._model_version)
        spam = labels.count(SPAM)  # the two labels (labels.py): cheaper than counting each
        if spam:
            children[SPAM].inc(spam)
        if len(labels) > spam:
            children[HAM].inc(len(labels) - spam)

    def observe_rate_limited(self, key_name: str, kind: str) -> None:
        """One request refused by the rate limits: `key_name` is the key's name in the key store, never the key."""
        self.rate_limited.labels(key=key_name, kind=kind).inc()

    def observe_batch(self, texts: int, seconds: float) -> None:
        """MicroBatcher callback: one forward batch of `texts` texts took `seconds`."""
        self.inference_batch_texts.observe(texts)
        self.inference_duration.observe(seconds)
