"""The HDFS sink: each line goes to a local spool before its request is answered, and a shipper thread appends
the spool to HDFS in batches, so HDFS being slow or down never slows or fails a request and loses nothing.

- One HDFS file per process per day: `<HDFS_LOG_DIR>/date=YYYY-MM-DD/<host>-<pid>-<instance>.jsonl`. The instance
  token (random, per start) keeps two processes from ever sharing a file, even where host name and pid repeat
  across restarts (containers). The day comes from `day` (UTC by default); lines for a day whose file was
  finished (a clock stepping back across midnight) are appended to that same file, at its end (see `spool.py`).
- The shipper wakes every `flush_interval` seconds, or sooner once `flush_bytes` wait, and appends whole lines.
  Where to resume is read from HDFS (the file's length), so each line lands once, in order, after an outage, a
  crash or a restart (see `spool.py`).
- Failures are retried with exponential back-off up to `max_backoff`: HDFS unreachable (connection refused,
  timeouts) ends the round and backs off the whole shipper; an error HDFS gives about one file (lease conflicts
  such as AlreadyBeingCreatedException or RecoveryInProgressException after a crashed writer, permissions)
  backs off that file only, and the others are shipped meanwhile.
- A file whose HDFS bytes contradict the spool (someone else wrote it, spool files are missing) is `broken`: it
  is left in the spool for an operator, listed in `status().broken`, and its reason stays in `last_error`. Its
  lines are stored durably, so it does not make the sink unready.
- `close` stores every queued line, then ships what HDFS takes before `timeout`; the rest stays in the spool,
  and the next start on the same spool directory ships it.

Exactly once, though an append may time out and land later. The spool holds, for each HDFS file, the exact bytes
it must end up holding, so the file must always be a prefix of its spool. Each HDFS file has one writer (the
token in its name; the spool's flock for a crashed writer's files), and HDFS lets one append at a time hold the
file's lease: an append that timed out on our side but still runs on the datanode keeps the lease until its bytes
land, and any other write meanwhile gets AlreadyBeingCreatedException. So bytes can only land where the file ended
when they land, and the only bytes we do not know of are our own appends whose answer we did not get. Hence:

1. Before an append the target is marked `suspect`; only an append answered with success AND followed by a length
   equal to start + len(data) clears it. A failure, a crash, or a different length leaves it set.
2. A suspect file is measured again before anything else is sent, and the bytes HDFS holds past the last checked
   length are read back and compared with the spool. If they match, they are ours (a late append that landed
   once): shipping resumes after them. If they differ, an earlier append landed late and ours landed after it
   (it could not land before: the lease), so the bytes from the first difference are a duplicate: the file is
   TRUNCATEd back to the last line end before it, which leaves a prefix of the spool.
3. A late append still running when we measure holds the lease: our next append (or truncate) is refused until
   it has landed, and its bytes are then found by step 1 and 2. It cannot land after one of ours has succeeded.

Bytes that differ from the spool are truncated only while the file is suspect (our own late append explains
them); otherwise they mean another writer, and the file is marked broken rather than cut.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from spam_service.outage import OutageTracker
from spam_service.request_log.base import SinkStatus
from spam_service.request_log.journal import Journal
from spam_service.request_log.records import encode_record, utc_day
from spam_service.request_log.spool import Spool, SpoolTarget
from spam_service.request_log.webhdfs import HdfsError, HdfsFiles
from spam_service.supervision import SupervisedThread

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
        day: Callable[[], str] = utc_day,
    ) -> None:
        self.files = files
        self.log_dir = "/" + log_dir.strip("/")
        self.file_name = process_file_name()
        self.flush_interval = flush_interval
        self.flush_bytes = flush_bytes
        self.max_chunk_bytes = max_chunk_bytes
        self.spool_warn_bytes = spool_warn_bytes
        self.max_backoff = max_backoff
        self._day = day  # the UTC day of a line (a parameter so that tests can move midnight)
        self.spool = Spool(spool_dir, segment_bytes=segment_bytes, fsync=fsync)
        self._journal = Journal(self.spool, name="request-log-spool", on_stored=self._stored)
        self._shipper = SupervisedThread("request-log-shipper", self._run, max_backoff=max(1.0, max_backoff))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._connected: bool | None = None
        # Failed shipping attempts (the journal counts failed spool writes).
        self._outage = OutageTracker(_logger, first_delay=0.5, max_delay=max_backoff)
        self._retry_at = 0.0  # while HDFS is unreachable: monotonic time of the next round
        self._warned_full_at = 0.0
        self._close_deadline: float | None = None
        self._lines_from_finished = 0  # lines shipped from targets already removed from the spool

    # -- RequestLogSink ------------------------------------------------------------------------------------------

    def start(self) -> None:
        claimed = self.spool.claim_orphans()
        if claimed:
            _logger.info("request log: %d spooled files from an earlier run will be shipped to HDFS", len(claimed))
        self._journal.start()
        self._shipper.start()

    async def append(self, record: Mapping[str, Any]) -> None:
        await self._journal.write(f"date={self._day()}/{self.file_name}", encode_record(record))

    def threads(self) -> list[SupervisedThread]:
        return [*self._journal.threads(), self._shipper]

    def status(self) -> SinkStatus:
        targets = self.spool.targets()
        waiting_bytes = sum(t.end - (t.remote_length if t.remote_length is not None else t.start) for t in targets)
        broken = tuple(f"{t.name}: {t.broken}" for t in targets if t.broken)
        return SinkStatus(
            kind=self.kind,
            ready=self._journal.ready,
            lines_waiting=self._journal.lines_waiting + sum(max(t.lines_stored, 0) for t in targets),
            lines_written=self._lines_shipped_total(targets),
            # A broken file stays an error after other files ship again: it waits for an operator.
            last_error=self._journal.last_error or self._outage.last_error or (broken[0] if broken else None),
            target=f"{self.files.url}{self.log_dir}/date=*/{self.file_name}",
            connected=self._connected,
            bytes_waiting=waiting_bytes,
            errors=self._journal.errors + self._outage.errors,
            broken=broken,
        )

    def close(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        self._journal.close(max(0.1, deadline - time.monotonic()))
        self.spool.deactivate_all()
        self._close_deadline = deadline
        self._shipper.stop()
        self._stopping.set()
        self._wake.set()
        self._shipper.join(max(0.1, deadline - time.monotonic()) + 5.0)
        left = self.status()
        if left.lines_waiting:
            _logger.warning(
                "request log: %d lines are still in the spool %s; the next start ships them to HDFS",
                left.lines_waiting,
                self.spool.directory,
            )
        self.spool.release_all()

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
            errors = self._ship_all(final=final)
            self._warn_if_spool_large()
            if not final:
                continue
            # Shutting down: stop when all is shipped, when HDFS is unreachable (don't hold the shutdown for it),
            # when only permanent errors are left, or at the deadline; lease conflicts clear in seconds.
            deadline = self._close_deadline or now
            unreachable = any(error.exception is None for error in errors)
            conflicts = any(error.transient for error in errors)
            if unreachable or not conflicts or time.monotonic() + 0.5 >= deadline:
                return
            time.sleep(0.5)

    def _ship_all(self, *, final: bool = False) -> list[HdfsError]:
        """Ship every target as far as HDFS takes it; the errors met (the last one ends the round when HDFS is
        unreachable). `final`: at shutdown, files backing off are tried too."""
        errors: list[HdfsError] = []
        backing_off = False
        now = time.monotonic()
        for target in self.spool.targets():
            if target.broken:
                continue
            if not final and now < target.retry_at:
                backing_off = True
                continue
            try:
                self._ship(target)
            except HdfsError as error:
                errors.append(error)
                self._failed(error)
                if error.exception is None:  # unreachable or timed out: the other files would fare no better
                    self._retry_at = now + self._outage.delay * random.uniform(0.8, 1.2)
                    return errors
                # HDFS answered about this file only (its lease, its permissions): back it off, go on.
                target.failures += 1
                delay = min(self.max_backoff, 0.5 * 2 ** (target.failures - 1))
                target.retry_at = now + delay * random.uniform(0.8, 1.2)
                continue
            target.failures, target.retry_at = 0, 0.0
            if not target.active and self.spool.forget_if_done(target):
                self._lines_from_finished += target.lines_shipped
                _logger.info("request log: %s complete in HDFS", target.name)
        if not errors and not backing_off:
            self._succeeded()
        return errors

    def _ship(self, target: SpoolTarget) -> None:
        path = f"{self.log_dir}/{target.name}"
        if target.remote_length is None or target.suspect:
            self._reconcile(target, path)
        while not target.broken and not target.suspect and target.remote_length is not None:
            start = target.remote_length
            if start >= target.end:
                return
            data = self.spool.read(target, start, self.max_chunk_bytes)
            if not data:
                return
            target.suspect = True  # until its length is checked, this append may land unseen (or late)
            if target.remote_exists:
                self.files.append(path, data)
            else:
                self.files.create(path, data)
            target.remote_exists = True
            self._connected = True
            if self.files.length(path) != start + len(data):
                # More: an append of ours that timed out landed before this one. Less: bytes went missing.
                self._reconcile(target, path)
                continue
            target.suspect = False
            lines = data.count(b"\n")
            self.spool.shipped(target, start + len(data), lines)
            target.lines_shipped += lines

    def _reconcile(self, target: SpoolTarget, path: str) -> None:
        """Measure the HDFS file and check the bytes it holds past what was checked before; clear `suspect` once
        the file is a prefix of the spool again (see the module docstring), or mark the target broken."""
        length = self.files.length(path)
        self._connected = True
        target.remote_exists = length is not None
        length = length or 0
        ours = target.remote_length is not None  # bytes past a checked length were sent by this process
        checked = target.remote_length if target.remote_length is not None else target.start
        if length < checked:
            problem = "spool files are missing" if target.remote_length is None else "it was cut by someone else"
            self._mark_broken(target, f"{path} holds {length} bytes, the spool starts at {checked}: {problem}")
            return
        if length > checked:
            matching, line_end = self._matching_prefix(target, path, checked, length)
            if matching < length:
                if not target.suspect:
                    self._mark_broken(
                        target, f"{path} differs from the spool from byte {matching}: written by someone else?"
                    )
                    return
                if not self.files.truncate(path, line_end):
                    return  # HDFS recovers the last block in the background: measure again next round
                _logger.warning(
                    "request log: %s held %d bytes past %d that duplicate lines (an append that timed out landed "
                    "late); truncated them",
                    path,
                    length - line_end,
                    line_end,
                )
                length = line_end
        target.suspect = False
        lines = self.spool.lines_between(target, checked, length)
        self.spool.shipped(target, length, lines)
        if ours:
            target.lines_shipped += lines

    def _matching_prefix(self, target: SpoolTarget, path: str, start: int, end: int) -> tuple[int, int]:
        """Compare HDFS bytes [start, end) with the spool's: the offset where they first differ (`end` if
        nowhere), and the offset after the last newline before it (`start` if none)."""
        position, line_end = start, start
        while position < end:
            remote = self.files.read(path, position, min(end - position, self.max_chunk_bytes))
            local = self.spool.read_raw(target, position, len(remote))
            same = _common_prefix_length(remote, local)
            newline = local.rfind(b"\n", 0, same)
            if newline >= 0:
                line_end = position + newline + 1
            position += same
            if not remote or same < len(remote):
                break
        return position, line_end

    def _mark_broken(self, target: SpoolTarget, reason: str) -> None:
        target.broken = reason
        self._outage.failed(
            reason,
            "request log: %s; leaving %s in the spool for an operator",
            reason,
            target.directory,
            level=logging.ERROR,
        )

    def _failed(self, error: HdfsError) -> None:
        self._connected = error.exception is not None  # a RemoteException: HDFS answered
        message = str(error)
        self._outage.failed(
            message,
            "request log: HDFS append failed (%s); lines stay in the spool, retrying with back-off",
            message,
            level=logging.WARNING if error.transient else logging.ERROR,
        )

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
                "disk is full, then requests are refused (503): bring HDFS back or give the spool more room",
                self.spool.directory,
                size / 2**20,
            )


def _common_prefix_length(a: bytes, b: bytes) -> int:
    low, high = 0, min(len(a), len(b))
    if a[:high] == b[:high]:
        return high
    while high - low > 1:  # a[:low] == b[:low] and a[:high] != b[:high]
        middle = (low + high) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle
    return low
