"""uvicorn, with the connection-level limits it lacks: a cap on open connections answered with a JSON 503 and
Retry-After, a deadline for a request's headers (slowloris), and a cap on their size.

uvicorn has no header timeout (a client that connects and sends nothing, or a header a minute, holds a connection
for ever), no limit on the headers' size with httptools, and its own `limit_concurrency` answers a plain-text 503
without Retry-After. These live in a subclass of its httptools protocol; the body's limits are in the middleware.

With TLS_CERT_FILE and TLS_KEY_FILE, uvicorn serves HTTPS only and every response, the refusals above included,
carries Strict-Transport-Security; the pair is checked before uvicorn starts (`check_tls_files`).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from spam_service.errors import StartupError
from spam_service.settings import Settings

# uvicorn would cancel requests still running after this many seconds of a graceful shutdown.
GRACEFUL_SHUTDOWN_TIMEOUT_S = 30

# One year: browsers that saw it once keep to HTTPS for this host. No includeSubDomains: the service does not own
# its parent domain's other hosts.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

AsgiMessage = MutableMapping[str, Any]
AsgiReceive = Callable[[], Awaitable[AsgiMessage]]
AsgiSend = Callable[[AsgiMessage], Awaitable[None]]


class TlsFilesError(StartupError):
    """TLS_CERT_FILE / TLS_KEY_FILE cannot be read or do not make a certificate and its key."""


def _refuse_encrypted_key() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key's passphrase and hang the start.
    return b""


def check_tls_files(settings: Settings) -> None:
    """Raise `TlsFilesError` naming the variable to fix when the TLS pair is set and unusable; nothing when unset.
    Loads them as uvicorn will, so that a bad pair stops the start with one line instead of a traceback in uvicorn."""
    cert_file, key_file = settings.tls_cert_file, settings.tls_key_file
    if cert_file is None or key_file is None:
        return  # Settings accepts both or neither
    for variable, path in (("TLS_CERT_FILE", cert_file), ("TLS_KEY_FILE", key_file)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise TlsFilesError(
                f"{variable} {path} cannot be read ({exc.strerror or type(exc).__name__}): point it at a readable "
                "PEM file"
            ) from None
    try:
        # Parses the certificates alone, so that a bad one is told apart from a bad key.
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(cert_file))
    except ssl.SSLError:
        raise TlsFilesError(f"TLS_CERT_FILE {cert_file} holds no PEM certificate") from None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(str(cert_file), str(key_file), password=_refuse_encrypted_key)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise TlsFilesError(
                f"TLS_KEY_FILE {key_file} is not the private key of TLS_CERT_FILE {cert_file}: give the pair "
                "issued together"
            ) from None
        raise TlsFilesError(
            f"TLS_KEY_FILE {key_file} holds no usable PEM private key (an encrypted key is not supported)"
        ) from None


class StrictTransportSecurity:
    """Pure ASGI wrapper: adds Strict-Transport-Security to every HTTP response of `app` (errors included), unless
    the app set it itself."""

    def __init__(self, app: Any, value: str = STRICT_TRANSPORT_SECURITY) -> None:
        self.app = app
        self._header = (b"strict-transport-security", value.encode("latin-1"))

    async def __call__(self, scope: AsgiMessage, receive: AsgiReceive, send: AsgiSend) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == self._header[0] for name, _ in headers):
                    headers.append(self._header)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


def _raw_response(status: int, reason: str, detail: str, extra_headers: dict[str, str] | None = None) -> bytes:
    body = json.dumps({"detail": detail, "errors": [], "request_id": None}).encode()
    headers = {
        "content-type": "application/json",
        "content-length": str(len(body)),
        "connection": "close",
        **(extra_headers or {}),
    }
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


class _HeadersTooLarge(Exception):
    pass


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with connection limits; `guarded_protocol` sets them per server."""

    max_connections = 1000
    header_timeout_s = 10.0
    max_header_bytes = 32 * 1024
    # Headers every refusal of ours carries as well (Strict-Transport-Security under TLS).
    refusal_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._refusal: bytes | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(
                _raw_response(
                    503,
                    "Service Unavailable",
                    f"the service has {self.max_connections} connections open (MAX_CONNECTIONS); retry after the "
                    "Retry-After seconds",
                    {"retry-after": "1", **self.refusal_headers},
                )
            )
            transport.close()
            return
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._start_header_timer()  # a keep-alive connection's next request gets the same deadline

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers 400 to every parser error; a refusal of ours raised from a parser callback is one.
        if self._refusal is None:
            super().send_400_response(msg)
            return
        self.transport.write(self._refusal)
        self.transport.close()

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            self._refusal = _raw_response(
                431,
                "Request Header Fields Too Large",
                f"the request line and headers are over {self.max_header_bytes} bytes (MAX_HEADER_BYTES)",
                self.refusal_headers,
            )
            raise _HeadersTooLarge

    def _start_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served (pipelining): its answer comes first
        self.transport.write(
            _raw_response(
                408,
                "Request Timeout",
                f"the request headers did not arrive within {self.header_timeout_s:g} s (HEADER_TIMEOUT_S)",
                self.refusal_headers,
            )
        )
        self.transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    return type(
        "GuardedHttpToolsProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "max_connections": settings.max_connections,
            "header_timeout_s": settings.header_timeout_s,
            "max_header_bytes": settings.max_header_bytes,
            "refusal_headers": {"strict-transport-security": STRICT_TRANSPORT_SECURITY} if _tls_on(settings) else {},
        },
    )


def _tls_on(settings: Settings) -> bool:
    return settings.tls_cert_file is not None and settings.tls_key_file is not None


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration the service runs with (`overrides`: host, port, log_level... for tests).
    With TLS set: HTTPS with that pair (checked first: `TlsFilesError`) and `app` wrapped to send HSTS."""
    tls: dict[str, Any] = {}
    if _tls_on(settings):
        check_tls_files(settings)
        tls = {"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
        app = StrictTransportSecurity(app)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # keep the logging configured by the service; uvicorn's loggers propagate to it
        "http": guarded_protocol(settings),
        # Not uvloop: flooded by clients that ignore Retry-After, it served the connections it had and left new
        # ones (a probe's /health, a well-behaved client) unanswered until the flood stopped, 5-8 s here; asyncio
        # accepts them within ~0.5 s (docs/robustness.md).
        "loop": "asyncio",
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_TIMEOUT_S,
        **tls,
        **overrides,
    }
    return uvicorn.Config(app, **options)
