"""Journal: a line is durable when its request goes on, or the request gets UnavailableError; a failing store is
retried with back-off and never buffered; a crashed writer thread fails its waiting requests and comes back."""

import asyncio
import errno
import threading
import time
from collections.abc import Sequence
from concurrent.futures import InvalidStateError

import pytest

from spam_service.errors import UnavailableError
from spam_service.request_log.journal import Journal

KEY = "requests-2030-01-01.jsonl"


class MemoryStore:
    """A `LineStore` in memory whose next writes raise `error` while `failing` (a disk, as the journal sees it)."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.calls = 0
        self.error: BaseException | None = None
        self.failures_left = 0  # how many writes raise `error`; -1: all of them
        self.gate = threading.Event()  # cleared: writes wait for it (a slow disk)
        self.gate.set()

    def write(self, lines: Sequence[tuple[str, bytes]]) -> None:
        self.calls += 1
        self.gate.wait()
        if self.error is not None and self.failures_left != 0:
            self.failures_left -= 1
            raise self.error
        self.lines.extend(data for _, data in lines)

    def describe(self) -> str:
        return "memory"


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def journal(store):
    journal = Journal(store, name="test-journal", max_backoff=1.0)
    journal.start()
    yield journal
    store.gate.set()
    journal.close(timeout=5)


def write(journal: Journal, data: bytes, timeout: float = 5.0) -> None:
    asyncio.run(asyncio.wait_for(journal.write(KEY, data), timeout))


def write_until_stored(journal: Journal, data: bytes, timeout: float = 15.0) -> int:
    """Retry as a client honouring Retry-After would (faster); the number of 503s it took."""
    refusals, deadline = 0, time.monotonic() + timeout
    while True:
        try:
            write(journal, data)
            return refusals
        except UnavailableError:
            refusals += 1
            assert time.monotonic() < deadline, "the journal never took a line again"
            time.sleep(0.05)


@pytest.mark.parametrize(
    "crash",
    [KeyError("date=2030-01-01/host-1-ab.jsonl"), InvalidStateError("CANCELLED: <Future>")],
    ids=["KeyError", "InvalidStateError"],
)
def test_a_crash_of_the_writer_thread_fails_the_waiting_request_and_the_thread_comes_back(journal, store, crash):
    store.error, store.failures_left = crash, 1
    with pytest.raises(UnavailableError) as refused:
        write(journal, b"lost with the crash\n")  # before: waited forever for a thread that was gone
    assert refused.value.retry_after >= 1
    write_until_stored(journal, b"after the restart\n")
    assert store.lines == [b"after the restart\n"]
    [thread] = journal.threads()
    assert thread.status().crashes == 1 and type(crash).__name__ in thread.status().last_crash
    assert thread.status().alive and journal.ready


def test_a_failing_store_refuses_the_request_keeps_nothing_in_memory_and_recovers(journal, store):
    store.error, store.failures_left = OSError(errno.ENOSPC, "No space left on device"), -1
    with pytest.raises(UnavailableError) as refused:
        write(journal, b"refused\n")
    assert refused.value.retry_after >= 1
    assert not journal.ready and "No space left on device" in journal.last_error
    assert journal.lines_waiting == 0 and journal.errors == 1  # refused, not kept for later
    store.failures_left = 0  # the disk has room again
    write_until_stored(journal, b"accepted\n")
    assert journal.ready and journal.last_error is None
    assert store.lines == [b"accepted\n"], "a refused line must never be written later (its client retries it)"


def test_readiness_returns_when_the_back_off_is_over_though_no_write_proved_the_disk_back(journal, store):
    store.error, store.failures_left = OSError(errno.EROFS, "Read-only file system"), -1
    with pytest.raises(UnavailableError):
        write(journal, b"refused\n")
    assert not journal.ready
    # Out of the load balancer, no request comes to prove the disk back: ready again once the back-off is over,
    # and the next write decides.
    deadline = time.monotonic() + 5
    while not journal.ready:
        assert time.monotonic() < deadline, "never ready again without a write"
        time.sleep(0.05)
    assert journal.last_error is not None  # still the cause on record until a write works


def test_while_the_store_keeps_failing_the_back_off_holds_and_requests_fail_fast(journal, store):
    store.error, store.failures_left = OSError(errno.EIO, "Input/output error"), -1
    refusals: list[UnavailableError] = []
    stop = time.monotonic() + 2.0

    async def client() -> None:
        while time.monotonic() < stop:
            try:
                await asyncio.wait_for(journal.write(KEY, b"x\n"), 5)
            except UnavailableError as error:
                refusals.append(error)
            await asyncio.sleep(0.005)

    async def clients() -> None:
        await asyncio.gather(*(client() for _ in range(10)))

    asyncio.run(clients())
    # Back-off 1 s (max_backoff here): about 2 attempts in 2 s. Before, the retry loop ran flat out under load.
    assert 2 <= store.calls <= 15
    assert len(refusals) > 3 * store.calls  # the rest were turned away without touching the disk
    assert all(1 <= r.retry_after <= 1 for r in refusals)  # remaining back-off rounded up, at least 1 s
    assert journal.lines_waiting == 0 and store.lines == []


def test_a_request_given_up_while_its_batch_is_stored_leaves_the_journal_working(journal, store):
    store.gate.clear()  # the disk stalls with the batch in hand
    abandoned = journal.submit(KEY, b"abandoned\n")
    time.sleep(0.2)
    abandoned.cancel()  # the client went away (asyncio cancels the wrapped future)
    store.gate.set()
    write(journal, b"next\n")
    [thread] = journal.threads()
    assert thread.status().crashes == 0 and b"next\n" in store.lines


def test_after_close_a_write_is_refused_not_left_waiting(store):
    journal = Journal(store, name="test-journal")
    journal.start()
    write(journal, b"before\n")
    journal.close(timeout=5)
    with pytest.raises(UnavailableError):
        write(journal, b"after\n")
    assert store.lines == [b"before\n"]
