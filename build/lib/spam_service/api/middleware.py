"""Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer and slow every response)."""

import json
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Gives each HTTP request an id (`scope["state"]["request_id"]`, echoed as X-Request-ID) and a start time,
    and refuses bodies whose Content-Length is over `max_body_bytes` with 413 before reading them."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["started"] = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            body = json.dumps(
                {
                    "detail": f"request body is {int(length)} bytes; the limit is {self.max_body_bytes} "
                    "(MAX_TEXTS_PER_REQUEST x MAX_TEXT_CHARS): send fewer or shorter texts",
                    "errors": [],
                    "request_id": request_id,
                }
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send_with_id({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_id)
