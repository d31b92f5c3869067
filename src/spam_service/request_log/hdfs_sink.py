"""The HDFS sink: each line goes to a local spool before its request is answered, and a shipper thread appends
the spool to HDFS in batches, so HDFS being slow or down never slows or fails a request and loses nothing.

- One HDFS file per process per day: `<HDFS_LOG_DIR>/date=YYYY-MM-DD/<host>-<pid>-<instance>.jsonl`. The instance
  token (random, per start) keeps two processes from ever sharing a file, even where host name and pid repeat
  across restarts (containers).
- The shipper wakes every `flush_interval` seconds, or sooner once `flush_bytes` wait, and appends whole lines.
  Where to resume is read from HDFS (the file's length), so each line lands once, in order, after an outage, a
  crash or a restart (see `spool.py`).
- Failures (connection refused, timeouts, 5xx, lease conflicts such as AlreadyBeingCreatedException or
  RecoveryInProgressException after a crashed writer) are retried with exponential back-off up to `max_backoff`.
- `close` stores every queued line, then ships what HDFS takes before `timeout`; the rest stays in the spool,
  and the next start on the same spool directory ships it.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from spam_service.outage import OutageTracker
from spam_service.request_log.base import SinkStatus
from spam_service.request_log.journal import Journal
from spam_service.request_log.records import encode_record, utc_day
from spam_service.request_log.spool import Spool, SpoolTarget
from spam_service.request_log.webhdfs import HdfsError, HdfsFiles

_logger = logging.getLogger(__name__)


def process_file_name() -> str:
    host = "".join(c if c.isalnum() or c in "-_." else "_" for c in socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(4)}.jsonl"


class HdfsRequestLogSink:
    kind = "hdfs"

    def __init__(
        self,
        files: HdfsFiles,
        *,
        log_dir: str = "/logs/spam-service",
        spool_dir: Path = Path("spool"),
        flush_interval: float = 1.0,
        flush_bytes: int = 1 << 20,
        max_chunk_bytes: int = 8 << 20,
        segment_bytes: int = 8 << 20,
        spool_warn_bytes: int = 1 << 30,
        max_backoff: float = 30.0,
        fsync: bool = True,
    ) -> None:
        self.files = files
        self.log_dir = "/" + log_dir.strip("/")
        self.file_name = process_file_name()
        self.flush_interval = flush_interval
        self.flush_bytes = flush_bytes
        self.max_chunk_bytes = max_chunk_bytes
        self.spool_warn_bytes = spool_warn_bytes
        self.spool = Spool(spool_dir, segment_bytes=segment_bytes, fsync=fsync)
        self._journal = Journal(self.spool, name="request-log-spool", on_stored=self._stored)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected: bool | None = None
        # Failed shipping attempts (the journal counts failed spool writes).
        self._outage = OutageTracker(_logger, first_delay=0.5, max_delay=max_backoff)
        self._retry_at = 0.0
        self._warned_full_at = 0.0
        self._close_deadline: float | None = None
        self._lines_from_finished = 0  # lines shipped from targets already removed from the spool

    # -- RequestLogSink ------------------------------------------------------------------------------------------

    def start(self) -> None:
        claimed = self.spool.claim_orphans()
        if claimed:
            _logger.info("request log: %d spooled files from an earlier run will be shipped to HDFS", len(claimed))
        self._journal.start()
        self._thread = threading.Thread(target=self._run, name="request-log-shipper", daemon=True)
        self._thread.start()

    async def append(self, record: Mapping[str, Any]) -> None:
        await self._journal.write(f"date={utc_day()}/{self.file_name}", encode_record(record))

    def status(self) -> SinkStatus:
        targets = self.spool.targets()
        waiting_bytes = sum(t.end - (t.remote_length if t.remote_length is not None else t.start) for t in targets)
        return SinkStatus(
            kind=self.kind,
            ready=self._journal.ready,
            lines_waiting=self._journal.lines_waiting + sum(max(t.lines_stored, 0) for t in targets),
            lines_written=self._lines_shipped_total(targets),
            last_error=self._journal.last_error or self._outage.last_error,
            target=f"{self.files.url}{self.log_dir}/date=*/{self.file_name}",
            connected=self._connected,
            bytes_waiting=waiting_bytes,
            errors=self._journal.errors + self._outage.errors,
        )

    def close(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        self._journal.close(max(0.1, deadline - time.monotonic()))
        self.spool.deactivate_all()
        self._close_deadline = deadline
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(max(0.1, deadline - time.monotonic()) + 5.0)
        left = self.status()
        if left.lines_waiting:
            _logger.warning(
                "request log: %d lines are still in the spool %s; the next start ships them to HDFS",
                left.lines_waiting,
                self.spool.directory,
            )
        self.spool.release_all()
        self._thread = None

    # -- shipping ------------------------------------------------------------------------------------------------

    def _lines_shipped_total(self, targets: list[SpoolTarget]) -> int:
        return self._lines_from_finished + sum(t.lines_shipped for t in targets)

    def _stored(self) -> None:
        """Journal callback: wake the shipper early once enough bytes wait."""
        if sum(t.end - (t.remote_length or 0) for t in self.spool.targets() if t.active) >= self.flush_bytes:
            self._wake.set()

    def _run(self) -> None:
        next_orphan_scan = time.monotonic() + 60
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            final = self._stopping.is_set()
            now = time.monotonic()
            if now >= next_orphan_scan:
                self.spool.claim_orphans()  # a process that shared this spool directory may have died
                next_orphan_scan = now + 60
            if not final and now < self._retry_at:
                continue
            try:
                error = self._ship_all()
                self._warn_if_spool_large()
            except Exception as unexpected:  # the shipper must outlive any bug: lines wait in the spool meanwhile
                _logger.exception("request log: shipping failed unexpectedly; retrying")
                error = HdfsError(f"unexpected {type(unexpected).__name__}", transient=True)
                self._failed(error)
            if not final:
                continue
            # Shutting down: stop when all is shipped, when HDFS is unreachable (don't hold the shutdown for it),
            # or at the deadline; lease conflicts clear in seconds, so those are worth retrying meanwhile.
            deadline = self._close_deadline or now
            if error is None or error.exception is None or time.monotonic() + 0.5 >= deadline:
                return
            time.sleep(0.5)

    def _ship_all(self) -> HdfsError | None:
        """Ship every target as far as HDFS takes it; the error that stopped it, if any."""
        for target in self.spool.targets():
            if target.broken:
                continue
            try:
                self._ship(target)
            except HdfsError as error:
                self._failed(error)
                return error
            if not target.active and self.spool.forget_if_done(target):
                self._lines_from_finished += target.lines_shipped
                _logger.info("request log: %s complete in HDFS", target.name)
        self._succeeded()
        return None

    def _ship(self, target: SpoolTarget) -> None:
        path = f"{self.log_dir}/{target.name}"
        if target.remote_length is None:
            self._measure(target, path)
            if target.broken:
                return
        while target.remote_length is not None and target.remote_length < target.end:
            start = target.remote_length
            data = self.spool.read(target, start, self.max_chunk_bytes)
            if not data:
                return
            try:
                if target.remote_exists:
                    self.files.append(path, data)
                else:
                    self.files.create(path, data)
            except HdfsError:
                target.remote_length = None  # part of it may have landed: measure again before resending
                raise
            target.remote_exists = True
            lines = data.count(b"\n")
            self.spool.shipped(target, start + len(data), lines)
            target.lines_shipped += lines
            self._connected = True

    def _measure(self, target: SpoolTarget, path: str) -> None:
        length = self.files.length(path)
        self._connected = True
        target.remote_exists = length is not None
        length = length or 0
        if length > target.end:
            target.broken = f"{path} holds {length} bytes but the spool only {target.end}: written by someone else?"
        elif length < target.start:
            target.broken = f"{path} holds {length} bytes; the spool starts at {target.start}: spool files are missing"
        if target.broken:
            self._outage.failed(
                target.broken,
                "request log: %s; leaving %s in the spool for an operator",
                target.broken,
                target.directory,
                level=logging.ERROR,
            )
            return
        # A claimed file may be partly in HDFS already (shipped by the run that died): those lines are not waiting.
        already = self.spool.lines_between(target, target.start, length) if length > target.start else 0
        self.spool.shipped(target, length, already)

    def _failed(self, error: HdfsError) -> None:
        self._connected = False
        message = str(error)
        self._outage.failed(
            message,
            "request log: HDFS append failed (%s); lines stay in the spool, retrying with back-off",
            message,
            level=logging.WARNING if error.transient else logging.ERROR,
        )
        # Jitter: replicas that lost HDFS together do not all come back at the same instant.
        self._retry_at = time.monotonic() + self._outage.delay * random.uniform(0.8, 1.2)

    def _succeeded(self) -> None:
        self._outage.succeeded("request log: shipping to HDFS again", level=logging.INFO)
        self._retry_at = 0.0

    def _warn_if_spool_large(self) -> None:
        size = self.spool.bytes_on_disk()
        now = time.monotonic()
        if size > self.spool_warn_bytes and now - self._warned_full_at > 300:
            self._warned_full_at = now
            _logger.warning(
                "request log: the spool %s holds %.0f MiB waiting for HDFS (over SPOOL_WARN_BYTES); it grows until the "
                "disk is full, then lines are kept in memory: bring HDFS back or give the spool more room",
                self.spool.directory,
                size / 2**20,
            )
