"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer and slow every response)."""

import asyncio
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spam_service.api.error_handlers import error_response
from spam_service.observability.logging import current_request_id
from spam_service.observability.prometheus import UNMATCHED_ROUTE, ServiceMetrics

REQUEST_ID_HEADER = b"x-request-id"
MAX_SHED_DELAY_S = 1.0
MAX_CONNECTIONS_REMEMBERED = 10_000  # connections refused lately, for the delay above


@dataclass(frozen=True, slots=True)
class BodyLimits:
    max_bytes: int  # one request's body (MAX_TEXTS_PER_REQUEST x MAX_TEXT_CHARS)
    timeout_s: float  # to receive the whole body (BODY_TIMEOUT_S)
    max_bytes_in_flight: int  # all requests' bodies held at once (MAX_BODY_BYTES_IN_FLIGHT)


class _Refused(Exception):
    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, *, close: bool = True) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        # Closing is the only way to be done with a body half read; one not read at all uvicorn skips by itself.
        self.headers = {**(headers or {}), **({"connection": "close"} if close else {})}


class RequestContextMiddleware:
    """Gives each HTTP request an id (`scope["state"]["request_id"]`, echoed as X-Request-ID, and set in the log
    context) and a start time, reads its body within `limits`, and counts and times each request in `metrics` by
    its route template (`unmatched` when no route matched).

    The body is read here, before any route sees it, whatever its framing (Content-Length or chunked): 413 as soon
    as it passes `limits.max_bytes` (before any of it when Content-Length says so), 408 when it takes longer than
    `limits.timeout_s`, 503 + Retry-After when the bodies of all requests together would pass
    `limits.max_bytes_in_flight`. So memory stays bounded whatever clients send, and slow senders let go.

    `shed(path)`: for a request to `path`, the Retry-After seconds when the service cannot take it now (the
    inference queue is full), checked before the body is read: under overload, refusing must cost next to nothing,
    or refusing alone takes the CPU (and the GIL) the admitted requests need. A connection that comes back before
    the Retry-After it was given waits out the rest (at most `MAX_SHED_DELAY_S`) before its next 503: a client that
    ignores Retry-After then costs a few refusals a second, not thousands, and /health stays fast for the others.

    `static_routes`: paths of the routes without path parameters, to label the requests refused before routing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: BodyLimits,
        metrics: ServiceMetrics | None = None,
        static_routes: Collection[str] = (),
        shed: Callable[[str], int | None] = lambda path: None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.shed = shed
        self.metrics = metrics
        self.static_routes = frozenset(static_routes)
        self.body_bytes_in_flight = 0
        self._shed_until: OrderedDict[object, float] = OrderedDict()  # connection -> end of its Retry-After

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = started
        token = current_request_id.set(request_id)
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        held = 0  # body bytes this request counts against the in-flight budget

        def hold(size: int) -> None:
            nonlocal held
            if self.body_bytes_in_flight + size > self.limits.max_bytes_in_flight:
                raise _Refused(
                    503,
                    "the service holds too many request bodies at once (MAX_BODY_BYTES_IN_FLIGHT); retry after the "
                    "Retry-After seconds",
                    {"retry-after": "1"},
                )
            self.body_bytes_in_flight += size
            held += size

        try:
            if (retry_after := self.shed(scope["path"])) is not None:
                await self._delay_if_retry_after_ignored(scope, retry_after)
                raise _Refused(
                    503,
                    "the service is overloaded (MAX_QUEUED_TEXTS texts wait for inference); retry after the "
                    "Retry-After seconds",
                    {"retry-after": str(retry_after)},
                    close=False,
                )
            body = await self._read_body(scope, receive, hold)
        except _Refused as refused:
            self.body_bytes_in_flight -= held
            response = error_response(Request(scope), refused.status, refused.detail)
            response.headers.update(refused.headers)
            await response(scope, receive, send_with_id)
            route = scope["path"] if scope["path"] in self.static_routes else UNMATCHED_ROUTE
            self._observe(route, scope, status, started)
            current_request_id.reset(token)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only http.disconnect comes

        try:
            await self.app(scope, replay, send_with_id)
        except Exception:
            # ServerErrorMiddleware, outside this one, then logs the traceback and answers 500 in this same task: the
            # request id stays set for that line (the task ends with the request, so no other request sees it).
            self._observe(self._route(scope), scope, status, started)
            raise
        finally:
            self.body_bytes_in_flight -= held
        self._observe(self._route(scope), scope, status, started)
        current_request_id.reset(token)

    async def _delay_if_retry_after_ignored(self, scope: Scope, retry_after: int) -> None:
        connection = scope.get("client")
        if connection is None:
            return
        now = time.monotonic()
        until = self._shed_until.pop(connection, None)
        self._shed_until[connection] = now + retry_after
        if len(self._shed_until) > MAX_CONNECTIONS_REMEMBERED:
            self._shed_until.popitem(last=False)
        if until is not None and until > now:
            # Jittered: connections refused together must not all come back in the same instant (a burst of
            # refusals that a /health waits behind).
            await asyncio.sleep(min(until - now, MAX_SHED_DELAY_S) * random.uniform(0.5, 1.0))

    async def _read_body(self, scope: Scope, receive: Receive, hold: Callable[[int], None]) -> bytes:
        limit = self.limits.max_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise _Refused(413, self._too_large(f"{int(length)} bytes"))
        chunks: list[bytes] = []
        received = 0
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":  # the client went away
                        break
                    chunk = message.get("body", b"")
                    if chunk:
                        if received + len(chunk) > limit:
                            raise _Refused(413, self._too_large(f"over {limit} bytes"))
                        hold(len(chunk))
                        chunks.append(chunk)
                        received += len(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise _Refused(
                408,
                f"the request body did not arrive within {self.limits.timeout_s:g} s (BODY_TIMEOUT_S); "
                f"{received} bytes came: send it at once",
            ) from None
        return b"".join(chunks)

    def _too_large(self, size: str) -> str:
        return (
            f"request body is {size}; the limit is {self.limits.max_bytes} "
            "(MAX_TEXTS_PER_REQUEST x MAX_TEXT_CHARS): send fewer or shorter texts"
        )

    @staticmethod
    def _route(scope: Scope) -> str:
        """The matched route's template (`/predict`), never the raw path: random URLs must not add series."""
        route = scope.get("route")
        return getattr(route, "path", None) or UNMATCHED_ROUTE

    def _observe(self, route: str, scope: Scope, status: int, started: float) -> None:
        if self.metrics is not None:
            self.metrics.observe_request(route, scope["method"], status, time.perf_counter() - started)
