"""RateLimits with a fake clock: limits, refill, burst, 0 = off, the draft's header fields, refusals that take
nothing, independent keys and classes, and the bound on the buckets held."""

import threading

import pytest

from spam_service.auth.rate_limits import SWEEP_INTERVAL_S, RateLimits
from spam_service.errors import InvalidInputError, StartupError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limits(
    clock: FakeClock, predict: float = 10, feedback: float = 6, admin: float = 2, max_request_texts: int = 4, **kwargs
) -> RateLimits:
    return RateLimits(predict, feedback, admin, max_request_texts=max_request_texts, clock=clock, **kwargs)


def spend(rate_limits: RateLimits, key: str, kind, times: int, cost: float = 1) -> list[bool]:
    return [rate_limits.check(key, kind, cost).allowed for _ in range(times)]


def test_predict_burst_is_one_second_of_texts_then_the_rate(clock):
    rate_limits = limits(clock, predict=10, max_request_texts=4)
    assert spend(rate_limits, "alice", "predict", 10) == [True] * 10
    assert not rate_limits.check("alice", "predict").allowed
    clock.advance(0.1)  # one text's worth of refill
    assert spend(rate_limits, "alice", "predict", 2) == [True, False]


def test_predict_burst_holds_at_least_one_full_request(clock):
    rate_limits = limits(clock, predict=2, max_request_texts=50)
    assert rate_limits.check("alice", "predict", cost=50).allowed  # 25 s of texts at once: one full request
    refused = rate_limits.check("alice", "predict", cost=1)
    assert not refused.allowed and refused.retry_after == 1
    clock.advance(10)
    assert rate_limits.check("alice", "predict", cost=20).allowed
    assert not rate_limits.check("alice", "predict", cost=1).allowed


def test_per_minute_classes_burst_their_minute_then_refill_continuously(clock):
    rate_limits = limits(clock, feedback=6, admin=2)
    assert spend(rate_limits, "alice", "feedback", 7) == [True] * 6 + [False]
    assert spend(rate_limits, "alice", "admin", 3) == [True, True, False]
    clock.advance(9.9)
    assert not rate_limits.check("alice", "feedback").allowed
    clock.advance(0.1)  # 10 s = one feedback request at 6 per minute
    assert spend(rate_limits, "alice", "feedback", 2) == [True, False]
    clock.advance(600)  # refill stops at the capacity
    assert spend(rate_limits, "alice", "feedback", 7) == [True] * 6 + [False]


def test_a_per_minute_rate_below_one_still_allows_one_request(clock):
    rate_limits = limits(clock, admin=0.5)  # one request per two minutes
    assert spend(rate_limits, "alice", "admin", 2) == [True, False]
    refused = rate_limits.check("alice", "admin")
    assert refused.retry_after == 120
    assert refused.headers["RateLimit-Policy"] == '"admin";q=1;w=120;spam-burst=1;spam-unit="requests"'


def test_zero_turns_a_class_off_and_sends_no_fields(clock):
    rate_limits = limits(clock, predict=0, feedback=0, admin=1)
    for kind in ("predict", "feedback"):
        decisions = [rate_limits.check("alice", kind, cost=1000) for _ in range(100)]
        assert all(decision.allowed and not decision.headers for decision in decisions)
    assert spend(rate_limits, "alice", "admin", 2) == [True, False]
    assert rate_limits.tracked_buckets == 1  # nothing kept for the classes that are off


def test_headers_follow_the_draft(clock):
    rate_limits = limits(clock, predict=10, max_request_texts=4)
    allowed = rate_limits.check("alice", "predict", cost=3)
    assert allowed.headers == {
        "RateLimit-Policy": '"predict";q=10;w=1;spam-burst=10;spam-unit="texts"',
        "RateLimit": '"predict";r=7;t=1',  # 3 texts take 0.3 s to come back: t rounds up
    }
    assert allowed.retry_after is None and allowed.detail is None
    rate_limits.check("alice", "predict", cost=7)
    refused = rate_limits.check("alice", "predict", cost=4)
    assert refused.headers == {
        "RateLimit-Policy": '"predict";q=10;w=1;spam-burst=10;spam-unit="texts"',
        "RateLimit": '"predict";r=0;t=1',  # on a refusal t is Retry-After: the draft wants Retry-After >= t
        "Retry-After": "1",
    }
    assert "10 texts per second" in refused.detail and "retry after 1 s" in refused.detail


def test_feedback_headers_count_requests_per_minute(clock):
    rate_limits = limits(clock, feedback=6)
    first = rate_limits.check("alice", "feedback")
    assert first.headers == {
        "RateLimit-Policy": '"feedback";q=6;w=60;spam-burst=6;spam-unit="requests"',
        "RateLimit": '"feedback";r=5;t=10',
    }
    spend(rate_limits, "alice", "feedback", 5)
    clock.advance(4)
    refused = rate_limits.check("alice", "feedback")
    assert refused.retry_after == 6 and refused.headers["Retry-After"] == "6"
    assert refused.headers["RateLimit"] == '"feedback";r=0;t=6'
    assert "6 requests per minute" in refused.detail


def test_retry_after_is_a_whole_second_at_least_and_enough(clock):
    rate_limits = limits(clock, predict=1000, max_request_texts=4)
    rate_limits.check("alice", "predict", cost=1000)
    refused = rate_limits.check("alice", "predict", cost=1)
    assert refused.retry_after == 1  # 1 ms of refill needed, but Retry-After counts whole seconds
    rate_limits = limits(clock, predict=2, max_request_texts=10)
    rate_limits.check("bob", "predict", cost=10)
    refused = rate_limits.check("bob", "predict", cost=9)
    assert refused.retry_after == 5  # 4.5 s of refill, rounded up
    clock.advance(refused.retry_after)
    assert rate_limits.check("bob", "predict", cost=9).allowed


def test_a_refusal_consumes_nothing(clock):
    rate_limits = limits(clock, predict=10, max_request_texts=10)
    rate_limits.check("alice", "predict", cost=6)
    # A request for more than is left is refused whole, and often: the 4 texts left stay there.
    assert spend(rate_limits, "alice", "predict", 20, cost=5) == [False] * 20
    assert rate_limits.check("alice", "predict", cost=4).allowed
    clock.advance(0.5)
    assert rate_limits.check("alice", "predict", cost=5).allowed  # refilled as if the refusals never happened


def test_keys_and_classes_have_separate_buckets(clock):
    rate_limits = limits(clock, feedback=2, admin=2)
    assert spend(rate_limits, "alice", "feedback", 3) == [True, True, False]
    assert spend(rate_limits, "bob", "feedback", 3) == [True, True, False]
    assert spend(rate_limits, "alice", "admin", 3) == [True, True, False]


def test_a_cost_no_bucket_can_hold_is_an_input_error(clock):
    rate_limits = limits(clock, predict=10, max_request_texts=20)
    with pytest.raises(InvalidInputError, match=r"costs 21 texts.*at most 20 at once; split it"):
        rate_limits.check("alice", "predict", cost=21)
    assert rate_limits.check("alice", "predict", cost=20).allowed  # and the attempt took nothing


def test_idle_buckets_are_dropped_once_full_again(clock):
    rate_limits = limits(clock, predict=10, feedback=6, max_request_texts=10)
    for index in range(500):
        rate_limits.check(f"key-{index}", "predict", cost=10)
        rate_limits.check(f"key-{index}", "feedback")
    assert rate_limits.tracked_buckets == 1000
    clock.advance(SWEEP_INTERVAL_S)  # both classes refill within a minute
    rate_limits.check("key-0", "predict", cost=10)
    assert rate_limits.tracked_buckets == 1
    # Dropping a full bucket changed nothing: key-0 spent its burst above and is refused now.
    assert not rate_limits.check("key-0", "predict").allowed


def test_buckets_still_refilling_survive_the_sweep(clock):
    rate_limits = limits(clock, feedback=1)  # one request a minute: 60 s to refill
    rate_limits.check("alice", "feedback")
    clock.advance(SWEEP_INTERVAL_S - 1)
    rate_limits.check("bob", "feedback")  # bob refills at clock + 60 s
    clock.advance(1)
    rate_limits.check("carol", "feedback")  # the sweep: alice is full again, bob is not
    assert rate_limits.tracked_buckets == 2
    assert not rate_limits.check("bob", "feedback").allowed


def test_the_bucket_cap_evicts_the_least_recently_used(clock):
    rate_limits = limits(clock, feedback=6, max_buckets=3)
    for key in ("a", "b", "c"):
        spend(rate_limits, key, "feedback", 6)
    assert not rate_limits.check("a", "feedback").allowed  # "a" is now the most recently used
    rate_limits.check("d", "feedback")
    assert rate_limits.tracked_buckets == 3
    assert not rate_limits.check("a", "feedback").allowed and not rate_limits.check("c", "feedback").allowed
    assert rate_limits.check("b", "feedback").allowed  # evicted: it starts again from a full bucket


def test_concurrent_checks_never_overspend(clock):
    rate_limits = limits(clock, feedback=600)
    allowed: list[bool] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        allowed.extend(spend(rate_limits, "alice", "feedback", 200))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 600  # the clock stands still: exactly the burst


@pytest.mark.parametrize("rates", [(-1, 0, 0), (0, float("nan"), 0), (0, 0, float("inf"))])
def test_invalid_rates_stop_start_up(clock, rates):
    with pytest.raises(StartupError, match="set it to a positive number, or 0 to turn it off"):
        RateLimits(*rates, max_request_texts=4, clock=clock)
