"""Closed-loop HTTP load generator for `POST /predict`, meant to run in its own process beside the server.

Each of N clients holds one HTTP/1.1 keep-alive connection and sends a request as soon as the previous answer has
been read in full, so the offered load adapts to the server: throughput and latency are measured at N requests in
flight. Raw asyncio streams and request bytes prepared up front keep the generator's own CPU cost low; that cost is
reported (`cpu_fraction`, of one core) because on a small machine it competes with the server.

    python -m bench.loadgen --url http://127.0.0.1:8000 --clients 8 --texts-per-request 16 \\
        --duration 10 --warmup 3 --messages data/prepared/test.jsonl

Prints one JSON object. `requests`, `texts`, `errors` and the latencies count requests that completed inside the
measured window; `ok_total` counts every 200 answer (warm-up and the tail after the window included), which is
what the server's request log should hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 60.0
RECONNECT_PAUSE_S = 0.05  # after a failure, so a dead server does not turn the loop into a busy spin


@dataclass
class Window:
    """The measured window; `start`/`end` stay infinite until the warm-up is over."""

    start: float = math.inf
    end: float = math.inf
    stop_sending: float = math.inf


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    texts: int = 0
    errors: int = 0
    ok_total: int = 0
    errors_total: int = 0
    sent_total: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)

    def count_error(self, kind: str, measured: bool) -> None:
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
        self.errors_total += 1
        self.errors += measured


class ErrorStatus(Exception):
    """A complete answer whose status is not 200."""


def load_messages(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        messages = [json.loads(line)["text"] for line in lines if line.strip()]
    if not messages:
        raise SystemExit(f"no messages in {path}")
    return messages


def build_requests(host: str, port: int, path: str, messages: list[str], k: int) -> list[bytes]:
    """Complete request bytes; request n carries messages n*k .. n*k+k-1 (cycling), so consecutive requests
    differ. The sequence repeats after len(messages)/gcd(len(messages), k) requests, which is all we prepare."""
    count = len(messages) // math.gcd(len(messages), k)
    requests = []
    for n in range(count):
        texts = [messages[(n * k + i) % len(messages)] for i in range(k)]
        body = json.dumps({"text": texts}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response in full; return (status, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                break
            await reader.readexactly(size + 2)  # the chunk and its CRLF
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    else:  # body delimited by the connection closing
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def client(index: int, host: str, port: int, requests: list[bytes], k: int, window: Window, tally: Tally) -> None:
    loop = asyncio.get_running_loop()
    n = index  # clients start at different places in the message cycle
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    while loop.time() < window.stop_sending:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REQUEST_TIMEOUT_S)
            assert reader is not None
            started = loop.time()
            writer.write(requests[n % len(requests)])
            n += 1
            tally.sent_total += 1
            status, keep_alive = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT_S)
            ended = loop.time()
            if not keep_alive:
                writer.close()
                writer = None
            if status != 200:
                raise ErrorStatus(f"HTTP {status}")
            tally.ok_total += 1
            if window.start <= ended <= window.end:
                tally.latencies_s.append(ended - started)
                tally.texts += k
        except ErrorStatus as e:  # the answer was read in full: the connection is still good
            tally.count_error(str(e), window.start <= loop.time() <= window.end)
        except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError) as e:
            tally.count_error(type(e).__name__, window.start <= loop.time() <= window.end)
            if writer is not None:
                writer.close()
                writer = None  # reconnect: the stream's state is unknown after a failure
            await asyncio.sleep(RECONNECT_PAUSE_S)
    if writer is not None:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


async def run(url: str, clients: int, k: int, duration: float, warmup: float, messages: list[str]) -> dict:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = build_requests(host, port, (parts.path.rstrip("/") or "") + "/predict", messages, k)
    loop = asyncio.get_running_loop()
    window, tally = Window(), Tally()
    window.stop_sending = loop.time() + warmup + duration
    tasks = [asyncio.create_task(client(i, host, port, requests, k, window, tally)) for i in range(clients)]

    await asyncio.sleep(warmup)
    window.start, cpu_start = loop.time(), cpu_seconds()
    window.end = window.start + duration
    window.stop_sending = window.end  # re-anchored: the sleep may have overrun a little
    await asyncio.sleep(duration)
    cpu_used, measured = cpu_seconds() - cpu_start, loop.time() - window.start
    await asyncio.gather(*tasks)  # in-flight requests finish (counted in ok_total only)

    latencies = sorted(tally.latencies_s)

    def ms(q: float) -> float | None:
        value = percentile(latencies, q)
        return None if value is None else round(value * 1000, 2)

    return {
        "clients": clients,
        "texts_per_request": k,
        "requests": len(latencies),
        "texts": tally.texts,
        "errors": tally.errors,
        "duration_s": round(measured, 3),
        "texts_per_s": round(tally.texts / measured, 2),
        "requests_per_s": round(len(latencies) / measured, 2),
        "latency_ms": {"p50": ms(0.50), "p95": ms(0.95), "p99": ms(0.99)},
        "cpu_fraction": round(cpu_used / measured, 3),
        "ok_total": tally.ok_total,
        "errors_total": tally.errors_total,
        "sent_total": tally.sent_total,
        "error_kinds": tally.error_kinds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Closed-loop load generator for POST /predict.")
    parser.add_argument("--url", required=True, help="base URL of the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections, one request in flight each")
    parser.add_argument("--texts-per-request", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"), help="JSON lines, 'text'")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.texts_per_request < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--clients and --texts-per-request must be >= 1, --duration > 0, --warmup >= 0")
    messages = load_messages(args.messages)
    result = asyncio.run(run(args.url, args.clients, args.texts_per_request, args.duration, args.warmup, messages))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
