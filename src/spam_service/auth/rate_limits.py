"""Per-key rate limits: one token bucket per (API key name, route class), held in this replica's memory.

Classes, and what one request costs:
- `predict`: texts per second; a request costs its number of texts (a 100-text request is 100 single ones).
- `feedback`, `admin`: requests per minute; a request costs 1.
A rate of 0 turns its class off: every request is allowed and no RateLimit fields are sent for it.

Burst (the bucket's capacity; buckets start full and refill continuously at the configured rate):
- `predict`: one second of texts, but at least `max_request_texts` (MAX_TEXTS_PER_REQUEST), so that a key within
  its limit can always send one full request (the API accepts no larger one);
- `feedback`, `admin`: the per-minute figure (at least 1 request), i.e. a key idle for a minute may spend that minute
  at once; after that it gets one request every 60/rate seconds.
A refusal consumes nothing: a client that retries too early is not pushed further back for it.

Response fields, per draft-ietf-httpapi-ratelimit-headers-11 (the current draft): `RateLimit-Policy` and `RateLimit`,
Structured Field lists. Chosen over the `RateLimit-Limit/-Remaining/-Reset` trio of drafts 00-06 because the working
group replaced that trio in -07 and every draft since has kept the pair; clients and proxies written against the old
names only lose a hint, since a refusal always carries `Retry-After`. For a predict key at 10 texts/s:
    RateLimit-Policy: "predict";q=10;w=1;spam-burst=256;spam-unit="texts"
    RateLimit: "predict";r=246;t=1
- q/w is the sustained rate (q units per w seconds); the draft's `qu` registry has no unit for texts, hence the
  vendor-prefixed `spam-unit` ("requests" for the other classes), and `spam-burst` for the capacity.
- r is the whole units left; t, on an allowed request, the seconds until the bucket is full again (a conservative
  window: the bucket refills during it); on a refusal t equals Retry-After, which the draft says must not end before t.
- No partition key (`pk`): the quota is per API key and the client knows which key it sent.

Concurrency: `check` is synchronous and takes a `threading.Lock` (uncontended: well under a microsecond), so it is
correct from the event loop and from FastAPI's thread pool (sync dependencies run there) alike.

Memory: a bucket idle long enough to be full again is dropped (every `SWEEP_INTERVAL_S` at most; dropping it changes
nothing, since a missing bucket counts as full); key names come from the key store, so buckets are bounded by
keys x 3 classes anyway. As a backstop against an unbounded caller, at most `max_buckets` are kept: past that the
least recently used ones are dropped, which can only give their keys a full bucket again (fails open, never closed).

Across replicas (not done: per replica is what the issue asks): each replica enforces the full limit, so N replicas
let a key through at up to N times its rate. Sharing would take either a shared store with an atomic check-and-take
(e.g. GCRA in one Redis Lua script: one key per (key name, class) holding the theoretical arrival time, with a
TTL of the burst's refill time) at the cost of a network round trip per request and a dependency that may be down,
or dividing each rate by the replica count when the load balancer spreads a key's requests evenly (fails when it
does not, e.g. sticky connections).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from spam_service.errors import InvalidInputError, StartupError

RouteClass = Literal["predict", "feedback", "admin"]
ROUTE_CLASSES: tuple[RouteClass, ...] = ("predict", "feedback", "admin")

SWEEP_INTERVAL_S = 60.0
DEFAULT_MAX_BUCKETS = 10_000
VENDOR_PREFIX = "spam"  # the draft asks service-specific parameters to carry a vendor prefix
# Float refill arithmetic must not refuse a request that the exact figures allow (10 x 0.1 s of refill = 1 token).
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class RateDecision:
    """What `RateLimits.check` decided. `headers` go on the response either way (empty when the class is off);
    on a refusal they include `Retry-After` and `detail` is the sentence for the 429 body."""

    allowed: bool
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_after: int | None = None
    detail: str | None = None


ALLOWED_UNLIMITED = RateDecision(allowed=True)


@dataclass(frozen=True, slots=True)
class _Policy:
    name: RouteClass
    rate_per_s: float
    capacity: float
    unit: str  # "texts" or "requests"
    policy_field: str  # the RateLimit-Policy item, the same on every response

    def describe(self) -> str:
        if self.name == "predict":
            return f"{self.rate_per_s:g} texts per second"
        return f"{self.rate_per_s * 60:g} requests per minute"


def _policy(name: RouteClass, rate_per_s: float, capacity: float, unit: str, window_s: int) -> _Policy:
    # q must be an integer: the sustained rate over the class's natural window, or 1 unit per the longer window it
    # takes to earn one when the rate is below one unit per window.
    quota = math.floor(rate_per_s * window_s + EPSILON)
    if quota < 1:
        quota, window_s = 1, math.ceil(1 / rate_per_s - EPSILON)
    item = (
        f'"{name}";q={quota};w={window_s};{VENDOR_PREFIX}-burst={math.floor(capacity + EPSILON)};'
        f'{VENDOR_PREFIX}-unit="{unit}"'
    )
    return _Policy(name, rate_per_s, capacity, unit, item)


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


def _checked_rate(value: float, what: str) -> float:
    if not math.isfinite(value) or value < 0:
        raise StartupError(f"the rate limit for {what} is {value!r}; set it to a positive number, or 0 to turn it off")
    return float(value)


class RateLimits:
    """Token buckets per (key name, route class) in this replica; see the module docstring for the policy."""

    def __init__(
        self,
        predict_texts_per_s: float,
        feedback_per_min: float,
        admin_per_min: float,
        *,
        max_request_texts: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = DEFAULT_MAX_BUCKETS,
    ) -> None:
        if max_request_texts < 1:
            raise StartupError(f"max_request_texts is {max_request_texts}; it must be 1 or more")
        if max_buckets < 1:
            raise StartupError(f"max_buckets is {max_buckets}; it must be 1 or more")
        predict = _checked_rate(predict_texts_per_s, "predict (texts per second)")
        feedback = _checked_rate(feedback_per_min, "feedback (requests per minute)") / 60
        admin = _checked_rate(admin_per_min, "admin (requests per minute)") / 60
        self._policies: dict[RouteClass, _Policy | None] = {
            "predict": _policy("predict", predict, max(predict, max_request_texts), "texts", 1) if predict else None,
            "feedback": _policy("feedback", feedback, max(feedback * 60, 1), "requests", 60) if feedback else None,
            "admin": _policy("admin", admin, max(admin * 60, 1), "requests", 60) if admin else None,
        }
        self._clock = clock
        self._max_buckets = max_buckets
        # Least recently used first, so that the cap evicts from the front.
        self._buckets: OrderedDict[tuple[RouteClass, str], _Bucket] = OrderedDict()
        self._lock = threading.Lock()
        self._next_sweep = clock() + SWEEP_INTERVAL_S

    @property
    def tracked_buckets(self) -> int:
        """Buckets held now (the memory bound is on this)."""
        return len(self._buckets)

    def check(self, key_name: str, kind: RouteClass, cost: float = 1) -> RateDecision:
        """Take `cost` units (texts for predict, else 1 request) from the key's bucket for `kind`, or refuse without
        taking anything. Raises InvalidInputError for a cost no bucket of this class can ever hold."""
        policy = self._policies[kind]
        if policy is None:
            return ALLOWED_UNLIMITED
        if cost < 0:
            raise ValueError(f"cost must be 0 or more, not {cost}")
        if cost > policy.capacity + EPSILON:
            # Never satisfiable: a Retry-After would send the client into an endless loop.
            raise InvalidInputError(
                f"this request costs {cost:g} {policy.unit} but the {kind} limit lets a key spend at most "
                f"{policy.capacity:g} at once; split it into smaller requests"
            )
        with self._lock:
            now = self._clock()
            if now >= self._next_sweep:
                self._sweep(now)
            bucket_key = (kind, key_name)
            bucket = self._buckets.get(bucket_key)
            if bucket is None:
                # O(1) eviction, no sweep: a flood of new names must not cost a pass over every bucket each.
                while len(self._buckets) >= self._max_buckets:
                    self._buckets.popitem(last=False)
                bucket = _Bucket(policy.capacity, now)
                self._buckets[bucket_key] = bucket
            else:
                self._buckets.move_to_end(bucket_key)
                # max(): a clock that steps back (a fake one in tests) must not drain the bucket.
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(policy.capacity, bucket.tokens + elapsed * policy.rate_per_s)
                bucket.updated = now
            if bucket.tokens + EPSILON >= cost:
                bucket.tokens = max(0.0, bucket.tokens - cost)
                until_full = math.ceil((policy.capacity - bucket.tokens) / policy.rate_per_s - EPSILON)
                return RateDecision(allowed=True, headers=self._headers(policy, bucket.tokens, until_full))
            tokens = bucket.tokens
        retry_after = max(1, math.ceil((cost - tokens) / policy.rate_per_s - EPSILON))
        headers = {**self._headers(policy, tokens, retry_after), "Retry-After": str(retry_after)}
        detail = (
            f"rate limit exceeded: this API key may send {policy.describe()} to {kind} (bursts up to "
            f"{policy.capacity:g} {policy.unit}); retry after {retry_after} s"
        )
        return RateDecision(allowed=False, headers=headers, retry_after=retry_after, detail=detail)

    @staticmethod
    def _headers(policy: _Policy, tokens: float, window_s: int) -> dict[str, str]:
        remaining = math.floor(tokens + EPSILON)
        return {"RateLimit-Policy": policy.policy_field, "RateLimit": f'"{policy.name}";r={remaining};t={window_s}'}

    def _sweep(self, now: float) -> None:
        """Drop the buckets that have refilled to capacity: a missing bucket starts full, so nothing changes."""
        self._next_sweep = now + SWEEP_INTERVAL_S
        full = []
        for (kind, key_name), bucket in self._buckets.items():
            policy = self._policies[kind]
            if policy is None or bucket.tokens + (now - bucket.updated) * policy.rate_per_s >= policy.capacity:
                full.append((kind, key_name))
        for bucket_key in full:
            del self._buckets[bucket_key]
