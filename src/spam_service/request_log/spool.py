"""The local spool in front of HDFS: for each HDFS file, the exact bytes it must end up holding.

Layout under the spool directory, for the HDFS file `<HDFS_LOG_DIR>/date=2026-11-23/host-7-a1b2c3d4.jsonl`:

    date=2026-11-23/host-7-a1b2c3d4.jsonl.spool/
        .lock                       flock held by the process that owns this file
        00000000000000000000.seg    bytes 0.. of the HDFS file
        00000000000008388608.seg    bytes 8388608.. (segments roll at `segment_bytes`)

A segment's name is the offset in the HDFS file of its first byte, so the HDFS file's length says exactly which
spool bytes are still to send: shipping resumes there after an outage, a crash or a restart, with no duplicate
and no gap. Segments wholly below that length are deleted, except the last one, which keeps the file's end
offset on disk (so a file written to again, or claimed after a crash, continues at the right offset). A
directory whose bytes are all in HDFS and that no process writes to any more is removed; the spool remembers
where that file ended, and lines for it arriving later (a clock stepping back across midnight) continue there.

Each HDFS file has one writer: the process holding the `.lock`. A process that dies releases it (the kernel
drops flocks), and the next process to start on this spool directory claims and ships what it left.

Threads: the journal writes (`write`), the shipper reads and removes (`read`, `shipped`, `forget_if_done`,
`claim_orphans`). A target's life (created, active, finished, removed) changes only under the spool's lock, and
a batch becomes visible (sizes, and the older files it finishes) only once it is fsynced, so the shipper never
sends or deletes bytes a failing batch may take back, nor removes a file that a batch is still writing.
"""

from __future__ import annotations

import contextlib
import errno
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
    """One HDFS file's spool and what the shipper knows of that file."""

    name: str  # path relative to the HDFS log directory, e.g. "date=2026-11-23/host-7-a1b2c3d4.jsonl"
    directory: Path
    lock_fd: int
    segments: list[Segment] = field(default_factory=list)
    active: bool = False  # this process still appends to it
    base: int = 0  # where its bytes start while it has no segment (a file written to again after its removal)
    remote_length: int | None = None  # HDFS holds the spool's bytes up to here (checked); None: not asked yet
    remote_exists: bool = False
    # An append of ours (or of the crashed process before us) may have landed unseen, or may land late: HDFS
    # must be measured and its bytes past `remote_length` checked against the spool before appending again.
    suspect: bool = False
    lines_stored: int = 0  # lines in the spool beyond what is known to be in HDFS
    lines_shipped: int = 0
    broken: str | None = None  # why it cannot be shipped, if so
    retry_at: float = 0.0  # after an error HDFS gave about this file: monotonic time of the next attempt
    failures: int = 0  # such errors in a row
    _fd: int | None = None  # open descriptor of the last segment, while active

    @property
    def start(self) -> int:
        return self.segments[0].offset if self.segments else self.base

    @property
    def end(self) -> int:
        return self.segments[-1].end if self.segments else self.base


class Spool:
    """`LineStore` for the journal (keys are target names) and the shipper's view of what is left to send."""

    def __init__(self, directory: Path, *, segment_bytes: int = 8 << 20, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self._lock = threading.Lock()
        self._targets: dict[str, SpoolTarget] = {}
        self._ended: dict[str, int] = {}  # removed targets: where their HDFS file ends (one entry a file a day)

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
                try:
                    lock_fd = _try_lock(spool_dir)
                except FileNotFoundError:
                    continue  # removed meanwhile
            if lock_fd is None:
                continue  # a live process owns it
            segments = _scan_segments(spool_dir)
            if not segments:  # all of it was in HDFS when its writer stopped
                with self._lock:
                    _remove_target_directory(spool_dir, lock_fd, [])
                continue
            # Its writer may have had an append in flight: check what HDFS holds past the spool's start.
            target = SpoolTarget(name=name, directory=spool_dir, lock_fd=lock_fd, segments=segments, suspect=True)
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
        written: list[tuple[SpoolTarget, int, int]] = []  # (target, its segments before, lines) to publish or undo
        try:
            for name, chunks in by_target.items():
                target = self._active_target(name)
                written.append((target, len(target.segments), len(chunks)))
                for data in chunks:
                    segment = self._segment_for_append(target, grown)
                    assert target._fd is not None  # `_segment_for_append` opened it
                    write_all(target._fd, data)
                    grown[id(segment)] = (segment, grown.get(id(segment), (segment, segment.size))[1] + len(data))
                if self.fsync and target._fd is not None:
                    os.fsync(target._fd)
        except OSError:
            self._roll_back([(target, count) for target, count, _ in written])
            raise
        with self._lock:
            for segment, size in grown.values():
                segment.size = size
            for target, _, count in written:
                target.lines_stored += count
                for segment in target.segments[:-1]:
                    segment.sealed = True
            # Lines of a new day: the files written before, and not in this batch, are finished. Only now, with
            # this batch's bytes published, may the shipper see them finished and remove them once shipped.
            in_batch = {id(target) for target, _, _ in written}
            for target in self._targets.values():
                if target.active and id(target) not in in_batch:
                    self._finish(target)

    def _roll_back(self, before: list[tuple[SpoolTarget, int]]) -> None:
        """Undo a failed batch: drop the segments it created, cut the others back to their published size."""
        for target, count in before:
            with self._lock:
                self._close_segment(target)
                created, target.segments = target.segments[count:], target.segments[:count]
            for segment in created:
                segment.path.unlink(missing_ok=True)
            for segment in target.segments[-1:]:
                with contextlib.suppress(OSError):
                    os.truncate(segment.path, segment.size)

    def _active_target(self, name: str) -> SpoolTarget:
        with self._lock:
            target = self._targets.get(name)
            if target is None:
                spool_dir = self.directory / f"{name}{SPOOL_SUFFIX}"
                spool_dir.mkdir(parents=True, exist_ok=True)
                lock_fd = _try_lock(spool_dir)
                if lock_fd is None:
                    raise OSError(errno.EBUSY, f"{spool_dir} is locked by another process")
                try:
                    segments = _scan_segments(spool_dir)
                except OSError:
                    os.close(lock_fd)
                    raise
                # A file this process finished and removed gets lines again: continue at its end, not at 0.
                target = SpoolTarget(name, spool_dir, lock_fd, segments, base=self._ended.get(name, 0))
                self._targets[name] = target
            if not target.active:
                target.active = True
                if target.segments:
                    target.segments[-1].sealed = False  # appended to again
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
        offset = last.offset + size if last else target.base
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

    def read_raw(self, target: SpoolTarget, start: int, length: int) -> bytes:
        """The published bytes [start, start + length) of the HDFS file's spool; fewer where they end sooner."""
        with self._lock:
            spans = [(s.path, s.offset, s.size) for s in target.segments if s.size and s.end > start]
        chunks, position, stop = [], start, start + length
        for path, offset, size in spans:
            if offset > position or position >= stop:
                break  # a gap: the bytes before this segment are not published yet (a batch is being written)
            with path.open("rb") as handle:
                handle.seek(position - offset)
                chunk = handle.read(min(offset + size, stop) - position)
            chunks.append(chunk)
            position += len(chunk)
        return b"".join(chunks)

    def read(self, target: SpoolTarget, start: int, max_bytes: int) -> bytes:
        """Bytes from `start` (an offset in the HDFS file) up to a line's end, at most `max_bytes` unless the first
        line is longer (then up to its end); empty when no newline is published past `start`."""
        want = max(1, max_bytes)
        while True:
            data = self.read_raw(target, start, want)
            cut = data.rfind(b"\n") + 1
            if cut:
                return data[:cut]
            if len(data) < want:
                return b""  # all that is published past `start` holds no newline: nothing whole to send
            want *= 2  # one line longer than `max_bytes`: read on to its end

    def lines_between(self, target: SpoolTarget, start: int, end: int) -> int:
        """Newlines in the spool bytes [start, end) (what part of a file HDFS already holds)."""
        count, position = 0, max(start, target.start)
        while position < end:
            data = self.read_raw(target, position, min(end - position, 1 << 20))
            if not data:
                break
            count += data.count(b"\n")
            position += len(data)
        return count

    def shipped(self, target: SpoolTarget, remote_length: int, lines: int) -> None:
        """Record that HDFS holds the file up to `remote_length` (`lines` more lines than known before); delete
        segments wholly below it but the last (it keeps the file's end offset on disk)."""
        with self._lock:
            target.remote_length = remote_length
            target.lines_stored -= lines
            last = target.segments[-1] if target.segments else None
            doomed = [s for s in target.segments if s.sealed and s.end <= remote_length and s is not last]
            target.segments = [s for s in target.segments if s not in doomed]
        for segment in doomed:
            segment.path.unlink(missing_ok=True)

    def forget_if_done(self, target: SpoolTarget) -> bool:
        """Remove a finished target's directory once HDFS has all of it. True if removed."""
        with self._lock:
            if (
                target.active
                or target.remote_length is None
                or target.remote_length < target.end
                or self._targets.get(target.name) is not target
            ):
                return False
            del self._targets[target.name]
            self._ended[target.name] = target.end
            # Under the lock: the journal may create this directory again, or another in the same date directory.
            _remove_target_directory(target.directory, target.lock_fd, target.segments)
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


def _remove_target_directory(spool_dir: Path, lock_fd: int, segments: list[Segment]) -> None:
    for segment in segments:
        segment.path.unlink(missing_ok=True)
    (spool_dir / LOCK_NAME).unlink(missing_ok=True)
    os.close(lock_fd)
    try:
        spool_dir.rmdir()
        spool_dir.parent.rmdir()  # the date directory, once empty
    except OSError:
        pass


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
