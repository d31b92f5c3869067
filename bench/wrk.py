"""wrk (Debian's package, C) as the benchmark's load generator, with `wrk_bodies.lua`, and what it reports.

A Python generator on the same two cores took a share of the CPU the servers need and measured the service at 55%
of wrk's figure; `wrk -t1` uses about 1% of a core at 32 connections. Its CPU is measured all the same (the child's
rusage) and reported in % of one core.

wrk is closed-loop: each connection sends its next request when the previous answer has been read. It has no
warm-up of its own, so a warm-up is a separate, shorter run; and it stops at the end of `-d` without waiting for the
requests in flight, which the server may still answer (and log): at most one per connection per run.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRK_SCRIPT = Path(__file__).with_name("wrk_bodies.lua")
RESULT_PREFIX = "WRK_BENCH_RESULT "
REQUEST_TIMEOUT = "30s"
FORMATS = ("text", "infinity")


class WrkError(RuntimeError):
    """wrk is missing, failed, or printed no result line."""


@dataclass(frozen=True)
class Load:
    """One wrk run: where, with which texts and body format, how many connections, for how long."""

    url: str  # the full endpoint, e.g. http://127.0.0.1:8000/predict
    texts_file: Path  # JSON arrays of strings, one request per line (`write_texts`)
    texts_per_request: int
    clients: int
    seconds: int
    body_format: str = "text"  # "text" ({"text": [...]}) or "infinity" ({"model": ..., "input": [...]})
    model: str | None = None  # the model name in infinity's body


def write_texts(path: Path, messages: Sequence[str], k: int) -> Path:
    """One JSON array of `k` messages per line: request n carries messages n*k .. n*k+k-1 (cycling), so consecutive
    requests differ. The sequence repeats after len(messages)/gcd(len(messages), k) requests, which is all we need."""
    if k < 1 or not messages:
        raise ValueError(f"need at least one message and one text per request (k={k}, {len(messages)} messages)")
    count = len(messages) // math.gcd(len(messages), k)
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            out.write(json.dumps([messages[(n * k + i) % len(messages)] for i in range(k)]) + "\n")
    return path


def parse_result(output: str) -> dict[str, Any]:
    """The JSON object `wrk_bodies.lua` prints in done(), from wrk's whole stdout."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            result["statuses"] = {int(code): count for code, count in result["statuses"].items()}
            if result["requests"] == 0:  # wrk's empty histogram reads 0 ms: no answer came back in the window
                result["latency_ms"] = dict.fromkeys(result["latency_ms"])
            return result
    raise WrkError(f"no {RESULT_PREFIX.strip()} line in wrk's output:\n{output[-2000:]}")


def run_wrk(load: Load) -> dict[str, Any]:
    """Run wrk once for `load.seconds`; its result plus `cpu_percent` (wrk's user+system CPU over its wall time, in
    % of one core) and `wall_s`."""
    if load.body_format not in FORMATS:
        raise ValueError(f"body_format must be one of {FORMATS}, not {load.body_format!r}")
    if load.clients < 1 or load.seconds < 1:
        raise ValueError(f"need at least one client and one second (clients={load.clients}, seconds={load.seconds})")
    wrk = shutil.which("wrk")
    if wrk is None:
        raise WrkError("wrk is not installed: scripts/install_system_packages.sh installs it (apt-get install wrk)")
    command = [wrk, "-t1", f"-c{load.clients}", f"-d{load.seconds}s", "--timeout", REQUEST_TIMEOUT]
    command += ["-s", str(WRK_SCRIPT), load.url]
    env = {
        "PATH": "/usr/bin:/bin",
        "BENCH_TEXTS": str(load.texts_file),
        "BENCH_FORMAT": load.body_format,
        "BENCH_TEXTS_PER_REQUEST": str(load.texts_per_request),
        **({"BENCH_MODEL": load.model} if load.model else {}),
    }
    # wrk is the only child reaped while it runs, so the change in RUSAGE_CHILDREN is its own CPU.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=load.seconds + 60)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise WrkError(f"wrk exited with {done.returncode}:\n{done.stderr[-2000:]}{done.stdout[-2000:]}")
    result = parse_result(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["cpu_percent"] = round(100 * cpu / wall, 1)
    result["wall_s"] = round(wall, 3)
    return result
