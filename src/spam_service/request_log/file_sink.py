"""The embedded default sink: JSON lines in `<directory>/requests-YYYY-MM-DD.jsonl` (UTC day of the request)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spam_service.request_log.base import SinkStatus
from spam_service.request_log.descriptors import write_all
from spam_service.request_log.journal import Journal
from spam_service.request_log.records import encode_record, utc_day
from spam_service.supervision import SupervisedThread


class AppendOnlyFiles:
    """`LineStore` over plain files in one directory: append, fsync; on failure, truncate back (no partial batch)."""

    def __init__(self, directory: Path, *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.fsync = fsync

    def describe(self) -> str:
        return str(self.directory)

    def write(self, lines: Sequence[tuple[str, bytes]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        by_file: dict[str, list[bytes]] = {}
        for name, data in lines:
            by_file.setdefault(name, []).append(data)
        written: list[tuple[int, int]] = []  # (fd, size before) to undo on failure
        try:
            for name, chunks in by_file.items():
                fd = os.open(self.directory / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                written.append((fd, os.fstat(fd).st_size))
                write_all(fd, b"".join(chunks))
                if self.fsync:
                    os.fsync(fd)
        except OSError:
            for fd, size in written:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
            raise
        finally:
            for fd, _ in written:
                os.close(fd)


class FileRequestLogSink:
    """Appends each request's line to a local file before the request is answered (group-committed fsync)."""

    kind = "file"

    def __init__(self, directory: Path, *, fsync: bool = True, day: Callable[[], str] = utc_day) -> None:
        self.directory = Path(directory)
        self._day = day  # the UTC day of a line (a parameter so that tests can move midnight)
        self._journal = Journal(AppendOnlyFiles(self.directory, fsync=fsync), name="request-log-file")

    def start(self) -> None:
        self._journal.start()

    async def append(self, record: Mapping[str, Any]) -> None:
        await self._journal.write(f"requests-{self._day()}.jsonl", encode_record(record))

    def threads(self) -> list[SupervisedThread]:
        return self._journal.threads()

    def status(self) -> SinkStatus:
        return SinkStatus(
            kind=self.kind,
            ready=self._journal.ready,
            lines_waiting=self._journal.lines_waiting,
            lines_written=self._journal.lines_written,
            last_error=self._journal.last_error,
            target=str(self.directory),
            errors=self._journal.errors,
        )

    def close(self, timeout: float = 10.0) -> None:
        self._journal.close(timeout)
