"""Serving benchmark: the service against the naive way and against the engine's own ceiling, in one run.

    HF_HUB_OFFLINE=1 python -m bench.serving            # from the repository root

What it measures, all on this machine, one after the other (never two servers at once):

1. Ceiling (`bench.ceiling`, its own process): the serving engine loaded as the service loads it, `predict` timed
   on batches of 32 test messages. No HTTP, no JSON, no request log: the most texts/s this engine gives here.
   Measured before and again after the servers; the higher of the two is used for the ratios.
2. The service (`python -m spam_service`), configured as in production: request log to HDFS (the WebHDFS test
   server, started in this process, stands in for the namenode and datanode), spool on local disk. For each
   load point (texts per request x concurrent clients) `bench.loadgen` runs as a separate process: closed loop,
   one keep-alive connection per client, a warm-up, then the measured window.
3. The naive server (`bench.naive_server`): a `transformers.pipeline` behind a synchronous FastAPI endpoint, the
   same load points.

How to read the table:

- texts/s is throughput over the measured window; p50/p95/p99 are per-request latencies the client saw.
- service/naive > 1 means the service serves more texts per second than the naive way at that load point.
- service/ceiling says how much of the engine's in-process throughput survives HTTP, validation, coalescing and
  the request log; with one client and one text per request it is low by nature (batches of 1 vs 32).
- loadgen CPU is the load generator's own use, in % of one core (service/naive runs). On a machine with few
  cores it is taken from the server: read the figures as "server plus client on N cores".
- request-log lines delivered/expected: every answered /predict (warm-ups included) should be one line in HDFS.

Other work on the machine (see the load averages printed) skews everything: compare figures from one run only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parents[1]
HDFS_LOG_DIR = "/logs/spam-service"
READY_TIMEOUT_S = 300.0
READY_POLL_S = 0.05
STOP_TIMEOUT_S = 40.0  # the service drains its request log on SIGTERM (graceful shutdown is 30 s)
LOG_DELIVERY_WAIT_S = 10.0  # the service ships its spool to HDFS about every second


@dataclass
class Point:
    texts_per_request: int
    clients: int


@dataclass
class ServerRun:
    """One server's results: readiness, memory and one loadgen result per load point."""

    name: str
    ready_s: float | None = None
    stopped: str | None = None  # how it ended: after SIGTERM, or killed
    peak_rss_mb: float | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    # Bound to port 0 and released: another process could take it in between, which on loopback in a benchmark
    # run is unlikely enough; the server fails loudly if it happens.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def log_tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return "(no log)"


@contextlib.contextmanager
def server_process(
    run: ServerRun, command: list[str], env: Mapping[str, str], log_path: Path
) -> Iterator[subprocess.Popen]:
    """Start a server with its output going to a file (a pipe nobody reads would fill and stall it); always stop it:
    SIGTERM, then SIGKILL if it does not exit in time. uvicorn re-raises SIGTERM once its graceful shutdown is
    done, so a clean stop reads as exit code -15."""
    log: TextIO = log_path.open("w", encoding="utf-8")
    # A session of its own: Ctrl-C in the terminal reaches only this process, whose clean-up below then stops the
    # server once, with SIGTERM (a second signal would make uvicorn skip its graceful shutdown).
    process = subprocess.Popen(
        command, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
                run.stopped = f"SIGTERM, exit code {process.returncode}"
            except subprocess.TimeoutExpired:
                print(f"{run.name}: no exit {STOP_TIMEOUT_S:.0f} s after SIGTERM, killing it", file=sys.stderr)
                process.kill()
                process.wait()
                run.stopped = f"killed: no exit {STOP_TIMEOUT_S:.0f} s after SIGTERM"
        else:
            run.stopped = f"exited by itself, code {process.returncode}"
        log.close()


def wait_ready(name: str, process: subprocess.Popen, base_url: str, log_path: Path, spawned: float) -> float:
    """Seconds from spawn until GET /ready answers 200."""
    while time.perf_counter() - spawned < READY_TIMEOUT_S:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} before ready; its log:\n{log_tail(log_path)}")
        with contextlib.suppress(OSError):  # refused while it loads; URLError and timeouts are OSErrors
            if http_get(f"{base_url}/ready", timeout=1.0)[0] == 200:
                return time.perf_counter() - spawned
        time.sleep(READY_POLL_S)
    raise SystemExit(f"{name} not ready after {READY_TIMEOUT_S:.0f} s; its log:\n{log_tail(log_path)}")


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the most resident memory the process has had (kB in /proc)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def run_loadgen(base_url: str, point: Point, args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.loadgen", "--url", base_url,
        "--clients", str(point.clients), "--texts-per-request", str(point.texts_per_request),
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--messages", str(args.messages),
    ]  # fmt: skip
    timeout = args.warmup + args.duration + 120  # loadgen's per-request timeout is 60 s
    done = subprocess.run(command, cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"loadgen failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def run_points(
    name: str, base_url: str, points: list[Point], args: argparse.Namespace, env: Mapping[str, str]
) -> list[dict[str, Any]]:
    results = []
    for point in points:
        result = run_loadgen(base_url, point, args, env)
        latency = result["latency_ms"]
        print(
            f"  {name}: {point.texts_per_request} texts/req x {point.clients} clients: "
            f"{result['texts_per_s']:.1f} texts/s, p50 {latency['p50']} ms, p99 {latency['p99']} ms, "
            f"errors {result['errors']}",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    return results


def run_ceiling(args: argparse.Namespace, env: Mapping[str, str], workdir: Path, when: str) -> dict[str, Any]:
    # Its own process, so the engine's memory and threads are gone before the servers are measured.
    print(f"ceiling ({when} the servers) ...", file=sys.stderr, flush=True)
    command = [
        sys.executable, "-m", "bench.ceiling", "--model-dir", str(args.model_dir),
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--messages", str(args.messages),
    ]  # fmt: skip
    log_path = workdir / f"ceiling-{when}.log"
    with log_path.open("w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=log, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ceiling failed ({done.returncode}):\n{log_tail(log_path)}")
    ceiling: dict[str, Any] = json.loads(done.stdout)
    print(f"  ceiling: {ceiling['texts_per_s']:.1f} texts/s ({ceiling['backend']})", file=sys.stderr, flush=True)
    return ceiling


def hdfs_log_lines(hdfs: Any) -> int:
    return sum(data.count(b"\n") for data in hdfs.files(HDFS_LOG_DIR).values())


def run_service(args: argparse.Namespace, env: dict[str, str], points: list[Point], workdir: Path) -> ServerRun:
    from tests.support.servers.webhdfs import WebHdfsServer

    run = ServerRun("service")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    hdfs = WebHdfsServer().start()
    try:
        service_env = {
            # Vault would decide where HDFS is: leave it out so the request log goes to the test server.
            **{k: v for k, v in env.items() if not k.startswith("VAULT_")},
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "MODEL_DIR": str(args.model_dir),
            "HDFS_HOST": "127.0.0.1",
            "HDFS_PORT": str(hdfs.port),
            "HDFS_LOG_DIR": HDFS_LOG_DIR,
            "SPOOL_DIR": str(workdir / "spool"),
            "REQUEST_LOG_DIR": str(workdir / "request-log"),
            "PREDICTION_STORE_URL": f"sqlite:///{workdir / 'predictions.sqlite3'}",
            "LOG_LEVEL": "warning",
        }
        log_path = workdir / "service.log"
        spawned = time.perf_counter()
        command = [sys.executable, "-m", "spam_service"]
        with server_process(run, command, service_env, log_path) as process:
            run.ready_s = wait_ready("service", process, base_url, log_path, spawned)
            print(f"service ready in {run.ready_s:.2f} s (pid {process.pid})", file=sys.stderr, flush=True)
            run.points = run_points("service", base_url, points, args, env)
            run.peak_rss_mb = peak_rss_mb(process.pid)
            expected = sum(p["ok_total"] for p in run.points)
            status: dict[str, Any] = {}
            deadline = time.perf_counter() + LOG_DELIVERY_WAIT_S
            while True:
                with contextlib.suppress(OSError, ValueError):
                    code, body = http_get(f"{base_url}/status")
                    status = json.loads(body) if code == 200 else {}
                delivered = hdfs_log_lines(hdfs)
                drained = delivered >= expected and status.get("request_log", {}).get("lines_waiting") == 0
                if drained or time.perf_counter() > deadline:
                    break
                time.sleep(0.2)
            run.extra = {
                "request_log_expected": expected,
                "request_log_delivered": delivered,
                "status": status,
            }
        # After SIGTERM the service ships what its spool still holds.
        run.extra["request_log_delivered_after_stop"] = hdfs_log_lines(hdfs)
    finally:
        hdfs.stop()
    return run


def run_naive(args: argparse.Namespace, env: dict[str, str], points: list[Point], workdir: Path) -> ServerRun:
    run = ServerRun("naive")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = workdir / "naive.log"
    command = [sys.executable, "-m", "bench.naive_server", "--port", str(port)]
    spawned = time.perf_counter()
    with server_process(run, command, {**env, "MODEL_DIR": str(args.model_dir)}, log_path) as process:
        run.ready_s = wait_ready("naive", process, base_url, log_path, spawned)
        print(f"naive ready in {run.ready_s:.2f} s (pid {process.pid})", file=sys.stderr, flush=True)
        run.points = run_points("naive", base_url, points, args, env)
        run.peak_rss_mb = peak_rss_mb(process.pid)
    return run


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(points: list[Point], service: ServerRun, naive: ServerRun | None, ceiling: dict[str, Any]) -> str:
    header = (
        "| texts/req | clients | service texts/s | p50 ms | p95 ms | p99 ms | errors | naive texts/s "
        "| naive p50 ms | naive p99 ms | service/naive | service/ceiling | loadgen CPU % (svc/naive) |"
    )
    rows = [header, "|" + "---:|" * (header.count("|") - 1)]
    for i, point in enumerate(points):
        s = service.points[i]
        n = naive.points[i] if naive else None
        naive_cpu = fmt(n["cpu_fraction"] * 100, 0) if n else "-"
        errors = f"{s['errors']}" + (f" / {n['errors']}" if n else "")
        rows.append(
            f"| {point.texts_per_request} | {point.clients} | {fmt(s['texts_per_s'])} "
            f"| {fmt(s['latency_ms']['p50'])} | {fmt(s['latency_ms']['p95'])} | {fmt(s['latency_ms']['p99'])} "
            f"| {errors} | {fmt(n['texts_per_s']) if n else '-'} "
            f"| {fmt(n['latency_ms']['p50']) if n else '-'} | {fmt(n['latency_ms']['p99']) if n else '-'} "
            f"| {ratio(s['texts_per_s'], n['texts_per_s'] if n else None)} "
            f"| {ratio(s['texts_per_s'], ceiling['texts_per_s'])} "
            f"| {fmt(s['cpu_fraction'] * 100, 0)} / {naive_cpu} |"
        )
    return "\n".join(rows)


def parse_ints(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the service against the naive way and the engine ceiling.")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per load point")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before each measurement")
    parser.add_argument("--clients", type=parse_ints, default=[1, 8, 32], help="comma-separated, e.g. 1,8,32")
    parser.add_argument("--texts-per-request", type=parse_ints, default=[1, 16], help="comma-separated, e.g. 1,16")
    parser.add_argument("--backend", help="INFERENCE_BACKEND for the service and the ceiling (default: the service's)")
    parser.add_argument("--skip-naive", action="store_true", help="do not run the naive server")
    parser.add_argument("--model-dir", type=Path, default=Path("weights/spam-minilm"))
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"))
    parser.add_argument("--json-out", type=Path, help="write every result to this JSON file")
    args = parser.parse_args(argv)
    args.model_dir, args.messages = args.model_dir.resolve(), args.messages.resolve()
    for path in (args.model_dir / "config.json", args.messages):
        if not path.is_file():
            parser.error(f"{path} not found (run from the repository root, or pass --model-dir / --messages)")

    command_line = shlex.join(["python", "-m", "bench.serving", *(sys.argv[1:] if argv is None else argv)])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    if args.backend:
        env["INFERENCE_BACKEND"] = args.backend
    points = [Point(k, c) for k in args.texts_per_request for c in args.clients]
    load_before = load_average()

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = Path(tmp)
        ceiling_before = run_ceiling(args, env, workdir, "before")
        service = run_service(args, env, points, workdir)
        naive = None if args.skip_naive else run_naive(args, env, points, workdir)
        ceiling_after = run_ceiling(args, env, workdir, "after")
    # The machine's speed drifts over a run: ratios use the higher of the two ceilings, the less flattering one.
    ceiling = max(ceiling_before, ceiling_after, key=lambda c: c["texts_per_s"])

    status = service.extra.get("status", {})
    inference = status.get("inference", {})
    request_log = status.get("request_log", {})
    info = machine()
    mean_batch = inference["texts"] / inference["batches"] if inference.get("batches") else None
    lines = [
        table(points, service, naive, ceiling),
        "",
        f"- ceiling (in-process `predict`, batches of {ceiling['batch']}): {ceiling['texts_per_s']:.1f} texts/s "
        f"(before the servers {ceiling_before['texts_per_s']:.1f}, after {ceiling_after['texts_per_s']:.1f}; "
        f"the higher is used), backend {ceiling['backend']}, "
        f"{ceiling['workers']} workers x {ceiling['threads']} threads",
        f"- service engine: backend {inference.get('backend', '?')}, {inference.get('workers', '?')} workers x "
        f"{inference.get('threads', '?')} threads, "
        f"mean batch {fmt(mean_batch)} texts, largest {inference.get('largest_batch', '?')}",
        f"- time to ready: service {fmt(service.ready_s, 2)} s, naive {f'{naive.ready_s:.2f} s' if naive else '-'}",
        f"- peak RSS (VmHWM): service {fmt(service.peak_rss_mb)} MB, "
        f"naive {f'{fmt(naive.peak_rss_mb)} MB' if naive else '-'}",
        f"- request log in HDFS: {service.extra['request_log_delivered']} of "
        f"{service.extra['request_log_expected']} lines delivered "
        f"(spool lines waiting {request_log.get('lines_waiting', '?')}, last error {request_log.get('last_error')}; "
        f"{service.extra['request_log_delivered_after_stop']} after shutdown)",
        f"- stopped: service {service.stopped}; naive {naive.stopped if naive else '-'}",
        f"- machine: {info['nproc']} CPUs ({info['cpu_model']}), Python {info['python']}, {info['platform']}",
        f"- load average: {load_before} before, {load_average()} after",
        f"- command: `HF_HUB_OFFLINE=1 {command_line}`",
    ]
    print("\n".join(lines), flush=True)

    if args.json_out:
        results = {
            "command": command_line,
            "machine": info,
            "load_average": {"before": load_before, "after": load_average()},
            "settings": {"duration_s": args.duration, "warmup_s": args.warmup, "backend": args.backend},
            "ceiling": {"used": ceiling, "before": ceiling_before, "after": ceiling_after},
            "service": vars(service),
            "naive": vars(naive) if naive else None,
        }
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C, so the servers are stopped on the way out


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers were stopped by their context managers on the way here
        print("interrupted", file=sys.stderr)
        sys.exit(130)
