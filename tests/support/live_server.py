"""A real uvicorn in a thread on a loopback port chosen at run time, for tests that need a live app."""

import socket
import ssl
import threading
import time
from dataclasses import dataclass

import httpx
import uvicorn

from spam_service.api import server_config


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    app: object
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_live_server(app, *, timeout: float = 60.0, verify: ssl.SSLContext | bool = True) -> LiveServer:
    """Run `app` under a real uvicorn in a thread, configured as the service runs it (connection limits included)
    when `app` is the service's; return once /health answers. Under TLS (the app's settings name a certificate)
    the URL is https and `verify` (the test's CA) checks /health's certificate."""
    port = free_port()
    options = {"host": "127.0.0.1", "port": port, "log_level": "warning", "lifespan": "on"}
    services = getattr(getattr(app, "state", None), "services", None)
    if services is not None:
        config = server_config(app, services.settings, **options)
    else:
        config = uvicorn.Config(app, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"{'https' if config.is_ssl else 'http'}://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.started:
            try:
                if httpx.get(f"{url}/health", timeout=2, verify=verify).status_code == 200:
                    return LiveServer(url, app, server, thread)
            except httpx.TransportError:
                pass
        if not thread.is_alive():
            raise RuntimeError("uvicorn exited during start-up")
        time.sleep(0.05)
    server.should_exit = True
    raise TimeoutError(f"uvicorn did not start on {url} within {timeout} s")
