"""Application logging: lines to stdout written by a background thread.

A slow or stalled stdout reader (a full pipe, a busy log shipper) must not block the event loop, which would stall
every request. `flush()` waits until what is queued is written; the app's shutdown calls it, because uvicorn
re-raises SIGTERM after a graceful shutdown and the process then ends without running atexit hooks.
"""

import logging
import queue
import sys
import threading
import time
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class BackgroundStreamHandler(logging.Handler):
    """Formats on the caller's thread (records can change after emit), writes on its own."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._write_forever, name="log-writer", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.put_nowait(self.format(record) + "\n")
        except Exception:
            self.handleError(record)

    def _write_forever(self) -> None:
        while True:
            line = self._lines.get()
            try:
                self.stream.write(line)
                if self._lines.empty():
                    self.stream.flush()
            except Exception:  # a closed or broken stdout: nothing to report it to
                pass
            finally:
                self._lines.task_done()

    def flush(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self._lines.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)


def configure_logging(level: str) -> None:
    handler = BackgroundStreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("hdfs").setLevel(max(logging.WARNING, logging.getLogger().level))  # it logs every call at INFO


def flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
