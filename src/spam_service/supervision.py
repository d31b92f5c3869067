"""Background threads that do not die silently.

The journal, the HDFS shipper and the prediction-store writer each run one loop for the life of the service. A bug
or an unexpected exception in such a loop used to end the thread quietly, and every later request waited for a
thread that was gone while `/health` said ok. A `SupervisedThread` runs the loop, and when it raises:

- logs the traceback once per crash, counts it and keeps its cause (`/status`, `/ready`, `/metrics` show them);
- calls `on_crash(exc)` so the owner can fail whatever waits on the loop (the waiting requests get a 503 rather
  than hanging);
- restarts the loop after a back-off (1 s, doubling to `max_backoff`) when `restart` is true, else stays down.

A loop that returns normally has finished (shutdown) and is not restarted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from spam_service.errors import first_line

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ThreadStatus:
    name: str
    alive: bool  # the loop runs, or waits to be restarted after a crash
    crashes: int  # since start-up
    last_crash: str | None  # the cause of the latest crash, kept after a restart


class SupervisedThread:
    def __init__(
        self,
        name: str,
        loop: Callable[[], None],
        *,
        on_crash: Callable[[BaseException], None] | None = None,
        restart: bool = True,
        first_backoff: float = 1.0,
        max_backoff: float = 30.0,
    ) -> None:
        self.name = name
        self._loop = loop
        self._on_crash = on_crash
        self.restart = restart
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._crashes = 0
        self._last_crash: str | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()  # set by `stop`: no more restarts, and cut a back-off short

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._supervise, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Do not restart the loop again (the owner then asks its loop to end and `join`s)."""
        self._stopping.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> ThreadStatus:
        return ThreadStatus(self.name, self.alive, self._crashes, self._last_crash)

    def _supervise(self) -> None:
        backoff = self.first_backoff
        while True:
            try:
                self._loop()
                return
            except BaseException as exc:
                self._crashes += 1
                self._last_crash = f"{type(exc).__name__}: {first_line(exc)}"
                will_restart = self.restart and not self._stopping.is_set()
                _logger.error(
                    "thread %s crashed (%s)%s",
                    self.name,
                    self._last_crash,
                    f"; restarting in {backoff:.0f} s" if will_restart else "; it stays down",
                    exc_info=exc,
                )
                if self._on_crash is not None:
                    try:
                        self._on_crash(exc)
                    except Exception:
                        _logger.exception("thread %s: failing its waiting work after the crash failed", self.name)
                if not will_restart or self._stopping.wait(backoff):
                    return
                backoff = min(self.max_backoff, backoff * 2)
