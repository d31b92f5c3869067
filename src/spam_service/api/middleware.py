"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer and slow every response)."""

import time
import uuid
from collections.abc import Collection

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spam_service.api.error_handlers import error_response
from spam_service.observability.logging import current_request_id
from spam_service.observability.prometheus import UNMATCHED_ROUTE, ServiceMetrics

REQUEST_ID_HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Gives each HTTP request an id (`scope["state"]["request_id"]`, echoed as X-Request-ID, and set in the log
    context) and a start time, refuses bodies whose Content-Length is over `max_body_bytes` with 413 before reading
    them, and counts and times each request in `metrics` by its route template (`unmatched` when no route matched).

    `static_routes`: paths of the routes without path parameters, to label the requests refused before routing."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        metrics: ServiceMetrics | None = None,
        static_routes: Collection[str] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.static_routes = frozenset(static_routes)

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

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await self._refuse_too_large(int(length), scope, receive, send_with_id)
            route = scope["path"] if scope["path"] in self.static_routes else UNMATCHED_ROUTE
            self._observe(route, scope, status, started)
            current_request_id.reset(token)
            return
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # ServerErrorMiddleware, outside this one, then logs the traceback and answers 500 in this same task: the
            # request id stays set for that line (the task ends with the request, so no other request sees it).
            self._observe(self._route(scope), scope, status, started)
            raise
        self._observe(self._route(scope), scope, status, started)
        current_request_id.reset(token)

    @staticmethod
    def _route(scope: Scope) -> str:
        """The matched route's template (`/predict`), never the raw path: random URLs must not add series."""
        route = scope.get("route")
        return getattr(route, "path", None) or UNMATCHED_ROUTE

    def _observe(self, route: str, scope: Scope, status: int, started: float) -> None:
        if self.metrics is not None:
            self.metrics.observe_request(route, scope["method"], status, time.perf_counter() - started)

    async def _refuse_too_large(self, length: int, scope: Scope, receive: Receive, send: Send) -> None:
        detail = (
            f"request body is {length} bytes; the limit is {self.max_body_bytes} "
            "(MAX_TEXTS_PER_REQUEST x MAX_TEXT_CHARS): send fewer or shorter texts"
        )
        # Request(scope) reads the request id set in scope["state"] above; the body is never read.
        await error_response(Request(scope), 413, detail)(scope, receive, send)
