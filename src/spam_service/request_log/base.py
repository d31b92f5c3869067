"""The request-log sink interface: where every /predict request and its predictions go, one JSON line each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from spam_service.supervision import SupervisedThread


@dataclass(frozen=True, slots=True)
class SinkStatus:
    kind: str
    ready: bool  # lines are accepted durably (local file or spool); HDFS being away does not make this False
    lines_waiting: int  # accepted but not yet at their final destination
    lines_written: int  # at their final destination since start-up
    last_error: str | None
    target: str
    connected: bool | None = None  # remote sinks: whether the last call to the remote store succeeded
    bytes_waiting: int = 0
    errors: int = 0  # failed attempts to store lines locally or ship them (each retry counts), since start-up
    # HDFS files that cannot be shipped until an operator looks (`name: reason`); their lines stay in the spool,
    # durable, so they do not make `ready` False.
    broken: tuple[str, ...] = ()


class RequestLogSink(Protocol):
    def start(self) -> None:
        """Start background work; recover what an earlier run left behind."""

    async def append(self, record: Mapping[str, Any]) -> None:
        """Return once the record is stored durably; else raise `UnavailableError` (503 + Retry-After).

        A request answered 200 has its line stored; one refused was not answered 200, so its client still holds
        it and retries it. Nothing is kept in memory for later: while local storage fails, requests are refused
        (at once during the retry back-off). Never blocks the event loop.
        """

    def status(self) -> SinkStatus:
        """Cheap (no I/O): it is read on every /metrics scrape."""

    def threads(self) -> list[SupervisedThread]:
        """The background threads the sink owns (shown in /ready, /status and /metrics)."""

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, deliver what the destination takes within `timeout` seconds, and stop."""
