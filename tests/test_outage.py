"""OutageTracker: every failure counted, each new cause logged once, the recovery logged once, back-off doubling."""

import logging

import pytest

from spam_service.outage import OutageTracker

OWNER = "tests.owner"  # the logger of the module that owns the retried dependency


@pytest.fixture
def tracker() -> OutageTracker:
    return OutageTracker(logging.getLogger(OWNER), first_delay=0.5, max_delay=3.0)


def fail(tracker: OutageTracker, error: str) -> None:
    tracker.failed(error, "cannot reach the thing (%s); retrying", error, level=logging.ERROR)


def recover(tracker: OutageTracker) -> None:
    tracker.succeeded("reaching the thing again", level=logging.INFO)


def test_a_repeated_failure_is_counted_each_time_but_logged_once(tracker, caplog):
    caplog.set_level(logging.DEBUG, logger=OWNER)
    for _ in range(3):
        fail(tracker, "refused")
    assert (tracker.errors, tracker.last_error, tracker.failing) == (3, "refused", True)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        (OWNER, logging.ERROR, "cannot reach the thing (refused); retrying")
    ]
    assert caplog.records[0].funcName == "fail"  # the line points at the caller, not at the tracker


def test_a_different_cause_is_logged_again(tracker, caplog):
    caplog.set_level(logging.DEBUG, logger=OWNER)
    for error in ("refused", "timed out", "timed out", "refused"):
        fail(tracker, error)
    assert [r.getMessage() for r in caplog.records] == [
        "cannot reach the thing (refused); retrying",
        "cannot reach the thing (timed out); retrying",
        "cannot reach the thing (refused); retrying",
    ]
    assert (tracker.errors, tracker.last_error) == (4, "refused")


def test_the_first_success_after_failures_is_logged_once_and_clears_the_error_but_not_the_count(tracker, caplog):
    caplog.set_level(logging.DEBUG, logger=OWNER)
    fail(tracker, "refused")
    caplog.clear()
    recover(tracker)
    recover(tracker)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.INFO, "reaching the thing again")]
    assert (tracker.last_error, tracker.failing, tracker.errors) == (None, False, 1)
    caplog.clear()
    fail(tracker, "refused")  # the same cause as before the recovery is a new outage: logged
    assert [r.getMessage() for r in caplog.records] == ["cannot reach the thing (refused); retrying"]


def test_success_without_an_outage_logs_nothing(tracker, caplog):
    caplog.set_level(logging.DEBUG, logger=OWNER)
    recover(tracker)
    assert caplog.records == [] and tracker.errors == 0


def test_the_delay_doubles_per_consecutive_failure_up_to_the_maximum_and_resets_on_success(tracker):
    assert tracker.delay == 0.0
    delays = []
    for _ in range(5):
        fail(tracker, "refused")
        delays.append(tracker.delay)
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0]
    recover(tracker)
    assert tracker.delay == 0.0
    fail(tracker, "refused")
    assert tracker.delay == 0.5


def test_without_a_back_off_the_delay_stays_zero():
    tracker = OutageTracker(logging.getLogger(OWNER))
    fail(tracker, "refused")
    assert tracker.delay == 0.0 and tracker.failing
