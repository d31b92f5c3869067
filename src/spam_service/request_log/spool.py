"""The local spool in front of HDFS: for each HDFS file, the exact bytes it must end up holding.

Layout under the spool directory, for the HDFS file `<HDFS_LOG_DIR>/date=2026-11-23/host-7-a1b2c3d4.jsonl`:

    date=2026-11-23/host-7-a1b2c3d4.jsonl.spool/
        .lock                       flock held by the process that owns this file
        00000000000000000000.seg    bytes 0.. of the HDFS file
        00000000000008388608.seg    bytes 8388608.. (segments roll at `segment_bytes`)

A segment's name is the offset in the HDFS file of its first byte, so the HDFS file's length says exactly which
spool bytes are still to send: shipping resumes there after an outage, a crash or a restart, with no duplicate
and no gap. Segments wholly below that length are deleted; a directory whose bytes are all in HDFS and that no
process writes to any more is removed.

Each HDFS file has one writer: the process holding the `.lock`. A process that dies releases it (the kernel
drops flocks), and the next process to start on this spool directory claims and ships what it left.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from spam_service.request_log.descriptors import write_all

_logger = logging.getLogger(__name__)

SPOOL_SUFFIX = ".spool"
SEGMENT_SUFFIX = ".seg"
LOCK_NAME = ".lock"


@dataclass(eq=False)
class Segment:
    offset: int
    path: Path
    size: int  # bytes known durable (published after fsync)
    sealed: bool = False  # final: no more bytes will be written to it (only sealed segments may be deleted)

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(eq=False)
class SpoolTarget:
    """One HDFS file's spool. `remote_length` is None until HDFS has been asked (and after a failed call)."""

    name: str  # path relative to the HDFS log directory, e.g. "date=2026-11-23/host-7-a1b2c3d4.jsonl"
    directory: Path
    lock_fd: int
    segments: list[Segment] = field(default_factory=list)
    active: bool = False  # this process still appends to it
    remote_length: int | None = None
    remote_exists: bool = False
    lines_stored: int = 0  # lines in the spool beyond what is known to be in HDFS
    lines_shipped: int = 0
    broken: str | None = None  # why it cannot be shipped, if so
    _fd: int | None = None  # open descriptor of the last segment, while active

    @property
    def start(self) -> int:
        return self.segments[0].offset if self.segments else 0

    @property
    def end(self) -> int:
        return self.segments[-1].end if self.segments else 0


class Spool:
    """`LineStore` for the journal (keys are target names) and the shipper's view of what is left to send."""

    def __init__(self, directory: Path, *, segment_bytes: int = 8 << 20, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._lock = threading.Lock()
        self._targets: dict[str, SpoolTarget] = {}

    def describe(self) -> str:
        return f"spool {self.directory}"

    # -- ownership ---------------------------------------------------------------------------------------------

    def claim_orphans(self) -> list[SpoolTarget]:
        """Take over spool directories whose writer is gone (a crash, a restart); return those with bytes."""
        if not self.directory.is_dir():
            return []
        claimed = []
        for spool_dir in sorted(self.directory.glob(f"*/*{SPOOL_SUFFIX}")):
            name = str(spool_dir.relative_to(self.directory))[: -len(SPOOL_SUFFIX)]
            with self._lock:
                if name in self._targets:
                    continue
            lock_fd = _try_lock(spool_dir)
            if lock_fd is None:
                continue  # a live process owns it
            target = SpoolTarget(name=name, directory=spool_dir, lock_fd=lock_fd, segments=_scan_segments(spool_dir))
            target.lines_stored = sum(_count_lines(s.path) for s in target.segments)
            with self._lock:
                self._targets[name] = target
            claimed.append(target)
            _logger.info(
                "spool: claimed %s (%d bytes, %d lines) left by an earlier run",
                name,
                target.end - target.start,
                target.lines_stored,
            )
        return claimed

    def targets(self) -> list[SpoolTarget]:
        with self._lock:
            return sorted(self._targets.values(), key=lambda t: t.name)

    def deactivate_all(self) -> None:
        """No more writes (shutdown): every target is finished and may be removed once shipped."""
        with self._lock:
            for target in self._targets.values():
                self._finish(target)

    def _finish(self, target: SpoolTarget) -> None:
        target.active = False
        self._close_segment(target)
        for segment in target.segments:
            segment.sealed = True

    def release_all(self) -> None:
        """Close files and drop locks; the spool directories stay for the next start."""
        with self._lock:
            for target in self._targets.values():
                self._close_segment(target)
                os.close(target.lock_fd)
            self._targets.clear()

    # -- writing (journal thread) ------------------------------------------------------------------------------

    def write(self, lines: Sequence[tuple[str, bytes]]) -> None:
        """Append a batch and fsync it. All or nothing: on OSError the spool is as before the call."""
        by_target: dict[str, list[bytes]] = {}
        for name, data in lines:
            by_target.setdefault(name, []).append(data)
        # Sizes become visible to the shipper only once fsynced, so it never ships bytes a failure may take back.
        grown: dict[int, tuple[Segment, int]] = {}  # id(segment) -> (segment, size once this batch is written)
        before: list[tuple[SpoolTarget, int]] = []  # (target, number of segments) to roll back to
        try:
            for name, chunks in by_target.items():
                target = self._active_target(name)
                before.append((target, len(target.segments)))
                for data in chunks:
                    segment = self._segment_for_append(target, grown)
                    assert target._fd is not None  # `_segment_for_append` opened it
                    write_all(target._fd, data)
                    grown[id(segment)] = (segment, grown.get(id(segment), (segment, segment.size))[1] + len(data))
                if self.fsync and target._fd is not None:
                    os.fsync(target._fd)
        except OSError:
            self._roll_back(before)
            raise
        with self._lock:
            for segment, size in grown.values():
                segment.size = size
            for name, chunks in by_target.items():
                target = self._targets[name]
                target.lines_stored += len(chunks)
                for segment in target.segments[:-1]:
                    segment.sealed = True

    def _roll_back(self, before: list[tuple[SpoolTarget, int]]) -> None:
        """Undo a failed batch: drop the segments it created, cut the others back to their published size."""
        for target, count in before:
            self._close_segment(target)
            with self._lock:
                created, target.segments = target.segments[count:], target.segments[:count]
            for segment in created:
                segment.path.unlink(missing_ok=True)
            for segment in target.segments[-1:]:
                with contextlib.suppress(OSError):
                    os.truncate(segment.path, segment.size)

    def _active_target(self, name: str) -> SpoolTarget:
        with self._lock:
            target = self._targets.get(name)
            if target is not None and target.active:
                return target
            # A new file (a new day): the files this process wrote before are finished.
            for other in self._targets.values():
                if other.active:
                    self._finish(other)
        spool_dir = self.directory / f"{name}{SPOOL_SUFFIX}"
        spool_dir.mkdir(parents=True, exist_ok=True)
        if target is None:
            lock_fd = _try_lock(spool_dir)
            if lock_fd is None:
                raise OSError(f"{spool_dir} is locked by another process")
            target = SpoolTarget(name=name, directory=spool_dir, lock_fd=lock_fd, segments=_scan_segments(spool_dir))
            with self._lock:
                self._targets[name] = target
        if target.segments:
            target.segments[-1].sealed = False  # appended to again
        target.active = True
        return target

    def _segment_for_append(self, target: SpoolTarget, grown: dict[int, tuple[Segment, int]]) -> Segment:
        last = target.segments[-1] if target.segments else None
        size = grown[id(last)][1] if last is not None and id(last) in grown else (last.size if last else 0)
        if last is not None and size < self.segment_bytes:
            if target._fd is None:
                target._fd = os.open(last.path, os.O_WRONLY | os.O_APPEND)
            return last
        if target._fd is not None and self.fsync:
            os.fsync(target._fd)  # the full segment is durable before its descriptor goes
        self._close_segment(target)
        offset = last.offset + size if last else 0
        segment = Segment(offset, target.directory / f"{offset:020d}{SEGMENT_SUFFIX}", 0)
        target._fd = os.open(segment.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if self.fsync:
            _fsync_dir(target.directory)
        with self._lock:
            target.segments.append(segment)
        return segment

    @staticmethod
    def _close_segment(target: SpoolTarget) -> None:
        if target._fd is not None:
            os.close(target._fd)
            target._fd = None

    # -- shipping (shipper thread) -----------------------------------------------------------------------------

    def read(self, target: SpoolTarget, start: int, max_bytes: int) -> bytes:
        """Bytes from `start` (an offset in the HDFS file), whole lines only, at most `max_bytes` unless one line
        is longer."""
        with self._lock:
            segments = [s for s in target.segments if s.end > start]
            sizes = [(s.path, s.offset, s.size) for s in segments]
        chunks, total = [], 0
        for path, offset, size in sizes:
            if offset > start + total:
                break  # the bytes before this segment are not published yet (a batch is being written)
            with path.open("rb") as handle:
                handle.seek(start + total - offset)
                chunk = handle.read(min(size - (start + total - offset), max_bytes - total))
            chunks.append(chunk)
            total += len(chunk)
            if total >= max_bytes:
                break
        data = b"".join(chunks)
        cut = data.rfind(b"\n") + 1
        if cut == 0 and data:  # one line longer than max_bytes: read on to its end
            return self.read(target, start, max_bytes * 2)
        return data[:cut]

    def lines_between(self, target: SpoolTarget, start: int, end: int) -> int:
        """Newlines in the spool bytes [start, end) (what part of a claimed file HDFS already holds)."""
        count, position = 0, max(start, target.start)
        while position < end:
            data = self.read(target, position, min(end - position, 1 << 20))
            if not data:
                break
            count += data.count(b"\n")
            position += len(data)
        return count

    def shipped(self, target: SpoolTarget, remote_length: int, lines: int) -> None:
        """Record that HDFS holds the file up to `remote_length` (`lines` more lines than known before); delete
        segments wholly below it."""
        with self._lock:
            target.remote_length = remote_length
            target.lines_stored -= lines
            doomed = [s for s in target.segments if s.sealed and s.end <= remote_length]
            target.segments = [s for s in target.segments if s not in doomed]
        for segment in doomed:
            segment.path.unlink(missing_ok=True)

    def forget_if_done(self, target: SpoolTarget) -> bool:
        """Remove a finished target's directory once HDFS has all of it. True if removed."""
        with self._lock:
            if target.active or target.remote_length is None or target.remote_length < target.end:
                return False
            self._targets.pop(target.name, None)
        for segment in target.segments:
            segment.path.unlink(missing_ok=True)
        (target.directory / LOCK_NAME).unlink(missing_ok=True)
        os.close(target.lock_fd)
        try:
            target.directory.rmdir()
            target.directory.parent.rmdir()  # the date directory, once empty
        except OSError:
            pass
        return True

    def bytes_on_disk(self) -> int:
        with self._lock:
            return sum(s.size for t in self._targets.values() for s in t.segments)


def _try_lock(spool_dir: Path) -> int | None:
    fd = os.open(spool_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _scan_segments(spool_dir: Path) -> list[Segment]:
    segments = []
    for path in sorted(spool_dir.glob(f"*{SEGMENT_SUFFIX}")):
        try:
            offset = int(path.stem)
        except ValueError:
            continue
        segments.append(Segment(offset, path, path.stat().st_size, sealed=True))  # left by a process that is gone
    if segments:
        # A process killed mid-write may leave part of a line that no request was answered for: drop it.
        last = segments[-1]
        with last.path.open("rb") as handle:
            data = handle.read()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):
            os.truncate(last.path, whole)
            last.size = whole
    return segments


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
