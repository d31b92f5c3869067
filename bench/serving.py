"""Serving benchmark: this service, the naive way and infinity-emb, one after the other, under the same HTTP load.

    HF_HUB_OFFLINE=1 python -m bench.serving            # from the repository root; --help for points and durations

What it does, all on this machine, never two servers at once:

1. The limit (`bench.ceiling`, its own process): the engine alone, no HTTP. Run before and after the servers; the
   higher figure is the limit the ratios use.
2. Each system in turn, started as its users start it, loaded with `wrk` (C, `bench/wrk_bodies.lua`; see
   `bench/wrk.py`) at each load point (texts per request x concurrent clients, closed loop, one keep-alive
   connection per client): a warm-up run, then the measured run. Every system gets the same texts in the same
   order from the test messages; only the body's shape differs.
   - service: `python -m spam_service` with its defaults, request log shipped to the WebHDFS test server (started
     here, standing in for the namenode and datanode), its stores in the run's temporary directory;
   - naive: `bench/naive_server.py`, FastAPI calling a `transformers.pipeline` per request;
   - infinity: infinity-emb 0.0.78, torch engine, batch size 32, CPU, serving the same weights on `/classify`,
     installed on first use into `.bench/infinity-venv` (`bench/requirements-infinity.txt`; a few minutes).

How to read it: texts/s over the measured window counts 2xx answers only; p50/p99 are wrk's latencies of every
answer. Peak RSS is VmHWM summed over the server's processes. wrk CPU is the load generator's own, in % of one core:
on a small machine it is taken from the server. Other work on the machine (load averages printed) skews everything:
compare figures from one run only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bench.messages import load_messages
from bench.wrk import Load, run_wrk, write_texts

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_INFINITY_VENV = Path(".bench/infinity-venv")
INFINITY_REQUIREMENTS = ROOT / "bench" / "requirements-infinity.txt"
INFINITY_MODEL_NAME = "spam-minilm"
TORCH_PIN = "torch==2.13.0"  # installed first and alone: this machine has the CPU wheel; other specs pull CUDA's
HDFS_LOG_DIR = "/logs/spam-service"
READY_TIMEOUT_S = 300.0
READY_POLL_S = 0.05
STOP_TIMEOUT_S = 40.0  # the service drains its request log on SIGTERM (graceful shutdown is 30 s)
LOG_DELIVERY_WAIT_S = 10.0  # the service ships its spool to HDFS about every second
DEFAULT_POINTS = "1x1,1x8,1x32,16x8"
OTHER_LIMIT_SIZES = (4, 8, 16, 32)  # pass sizes swept for the backends the service does not serve
SETTLE_MAX_S = 10.0  # the longest pause between a warm-up and its measured run
SYSTEMS = ("service", "naive", "infinity")


@dataclass(frozen=True)
class Point:
    texts_per_request: int
    clients: int

    @property
    def label(self) -> str:
        return f"{self.texts_per_request}x{self.clients}"


@dataclass
class ServerRun:
    """One server's results: readiness, memory and one wrk result per load point."""

    name: str
    ready_s: float | None = None
    stopped: str | None = None  # how it ended: after SIGTERM, or killed
    peak_rss_mb: float | None = None
    processes: int | None = None
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
    SIGTERM, then SIGKILL to its whole session if it does not exit in time."""
    log: TextIO = log_path.open("w", encoding="utf-8")
    # A session of its own: Ctrl-C in the terminal reaches only this process, whose clean-up below then stops the
    # server once, with SIGTERM (a second signal would make uvicorn skip its graceful shutdown). The session also
    # names every process the server starts, for peak RSS.
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
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                run.stopped = f"killed: no exit {STOP_TIMEOUT_S:.0f} s after SIGTERM"
        else:
            run.stopped = f"exited by itself, code {process.returncode}"
        log.close()


def wait_ready(name: str, process: subprocess.Popen, url: str, log_path: Path, spawned: float) -> float:
    """Seconds from spawn until GET `url` answers 200."""
    while time.perf_counter() - spawned < READY_TIMEOUT_S:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode} before ready; its log:\n{log_tail(log_path)}")
        with contextlib.suppress(OSError):  # refused while it loads; URLError and timeouts are OSErrors
            if http_get(url, timeout=1.0)[0] == 200:
                return time.perf_counter() - spawned
        time.sleep(READY_POLL_S)
    raise SystemExit(f"{name} not ready after {READY_TIMEOUT_S:.0f} s; its log:\n{log_tail(log_path)}")


def session_peak_rss_mb(session_id: int) -> tuple[float | None, int]:
    """VmHWM (the most resident memory a process has had) summed over the live processes of a session, and how
    many there are: a server that forks workers counts them all (the sum of peaks bounds the peak of the sum)."""
    total_kb, count = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session_id:  # after "(comm)": state ppid pgrp session ...
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
                    count += 1
    return (round(total_kb / 1024, 1) if count else None), count


def settle_s(point: Point, warm: dict[str, Any]) -> float:
    """How long the server needs for the requests a warm-up left in flight (wrk stops without waiting for them; the
    server still works them off), at the rate the warm-up measured: without the pause they would take the first
    moments of the measured window (16 texts x 8 clients on the naive server: ~2 s of 15)."""
    if warm["texts_per_s"] <= 0:
        return SETTLE_MAX_S
    return min(SETTLE_MAX_S, 1.2 * point.clients * point.texts_per_request / warm["texts_per_s"] + 0.1)


def run_points(name: str, url: str, points: list[Point], args: argparse.Namespace, **load: Any) -> list[dict[str, Any]]:
    """For each point: a warm-up wrk run (not reported, but its answers counted for the request log), a pause for
    what it left in flight, then the measured run."""
    results = []
    for point in points:
        texts = args.texts_files[point.texts_per_request]
        warm, pause = None, 0.0
        if args.warmup > 0:
            warm = run_wrk(Load(url, texts, point.texts_per_request, point.clients, args.warmup, **load))
            pause = settle_s(point, warm)
            time.sleep(pause)
        result = run_wrk(Load(url, texts, point.texts_per_request, point.clients, args.duration, **load))
        result["point"] = point.label
        result["clients"] = point.clients
        result["warmup"] = {k: warm[k] for k in ("requests", "ok", "non_2xx", "texts_per_s")} if warm else None
        result["settle_s"] = round(pause, 2)
        latency = result["latency_ms"]
        print(
            f"  {name} {point.label}: {result['texts_per_s']:.1f} texts/s, p50 {fmt(latency['p50'])} ms, "
            f"p99 {fmt(latency['p99'])} ms, non-2xx {result['non_2xx']}, wrk CPU {result['cpu_percent']:.0f}%",
            file=sys.stderr,
            flush=True,
        )
        results.append(result)
    return results


def serve(
    run: ServerRun,
    command: list[str],
    env: Mapping[str, str],
    ready_url: str,
    workdir: Path,
    measure: Callable[[subprocess.Popen], None],
) -> ServerRun:
    """Start a server, time it to ready, `measure` it, record its peak RSS, stop it."""
    log_path = workdir / f"{run.name}.log"
    spawned = time.perf_counter()
    with server_process(run, command, env, log_path) as process:
        run.ready_s = wait_ready(run.name, process, ready_url, log_path, spawned)
        print(f"{run.name} ready in {run.ready_s:.2f} s (pid {process.pid})", file=sys.stderr, flush=True)
        measure(process)
        run.peak_rss_mb, run.processes = session_peak_rss_mb(process.pid)
    return run


def run_ceiling(
    args: argparse.Namespace, env: Mapping[str, str], workdir: Path, when: str, sizes: Sequence[int] = ()
) -> dict[str, Any]:
    # Its own process, so the engine's memory and threads are gone before the servers are measured.
    backend = env.get("INFERENCE_BACKEND", "the served backend")
    print(f"limit of {backend} ({when} the servers) ...", file=sys.stderr, flush=True)
    command = [
        sys.executable, "-m", "bench.ceiling", "--model-dir", str(args.model_dir),
        "--messages", str(args.messages), *(["--sizes", *map(str, sizes)] if sizes else []),
    ]  # fmt: skip
    log_path = workdir / f"ceiling-{when}-{backend.replace(' ', '-')}.log"
    with log_path.open("w", encoding="utf-8") as log:
        done = subprocess.run(command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=log, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench.ceiling failed ({done.returncode}):\n{log_tail(log_path)}")
    ceiling: dict[str, Any] = json.loads(done.stdout)
    print(f"  limit: {ceiling['texts_per_s']:.1f} texts/s", file=sys.stderr, flush=True)
    return ceiling


def loadable_backends(model_dir: Path) -> list[str]:
    """The backends whose files the model directory holds."""
    from spam_service.model.artifact import ONNX_FILES, onnx_path

    onnx = [backend for backend in ONNX_FILES if onnx_path(model_dir, backend).is_file()]
    return [*onnx, *(["torch"] if any(model_dir.glob("*.safetensors")) else [])]


def hdfs_log_lines(hdfs: Any) -> int:
    return sum(data.count(b"\n") for data in hdfs.files(HDFS_LOG_DIR).values())


def run_service(args: argparse.Namespace, env: dict[str, str], points: list[Point], workdir: Path) -> ServerRun:
    from tests.support.servers.webhdfs import WebHdfsServer

    run = ServerRun("service")
    base_url = f"http://127.0.0.1:{free_port()}"
    hdfs = WebHdfsServer().start()
    port = base_url.rsplit(":", 1)[1]
    service_env = {
        # Vault would decide where HDFS is: leave it out so the request log goes to the test server.
        **{k: v for k, v in env.items() if not k.startswith("VAULT_")},
        "HOST": "127.0.0.1",
        "PORT": port,
        "MODEL_DIR": str(args.model_dir),
        "HDFS_HOST": "127.0.0.1",
        "HDFS_PORT": str(hdfs.port),
        "HDFS_LOG_DIR": HDFS_LOG_DIR,
        "SPOOL_DIR": str(workdir / "spool"),
        "REQUEST_LOG_DIR": str(workdir / "request-log"),
        "PREDICTION_STORE_URL": f"sqlite:///{workdir / 'predictions.sqlite3'}",
        "LOG_LEVEL": "warning",
    }

    def measure(process: subprocess.Popen) -> None:
        run.points = run_points("service", f"{base_url}/predict", points, args)
        # Every 2xx answer is one line in the request log. wrk counts the answers it read; at each of its stops up
        # to one request per connection was still in flight, which the service may have answered and logged too.
        answered = sum(p["ok"] + (p["warmup"]["ok"] if p["warmup"] else 0) for p in run.points)
        in_flight = sum(p["clients"] * (2 if p["warmup"] else 1) for p in run.points)
        status: dict[str, Any] = {}
        deadline = time.perf_counter() + LOG_DELIVERY_WAIT_S
        while True:
            with contextlib.suppress(OSError, ValueError):
                code, body = http_get(f"{base_url}/status")
                status = json.loads(body) if code == 200 else {}
            delivered = hdfs_log_lines(hdfs)
            idle = status.get("inference", {}).get("queued_texts", 0) == 0  # what wrk left in flight is done
            drained = idle and delivered >= answered and status.get("request_log", {}).get("lines_waiting") == 0
            if drained or time.perf_counter() > deadline:
                break
            time.sleep(0.2)
        run.extra = {
            "request_log_answered_counted": answered,
            "request_log_in_flight_at_stops": in_flight,
            "request_log_delivered": delivered,
            "status": status,
        }

    try:
        serve(run, [sys.executable, "-m", "spam_service"], service_env, f"{base_url}/ready", workdir, measure)
        # After SIGTERM the service ships what its spool still holds.
        run.extra["request_log_delivered_after_stop"] = hdfs_log_lines(hdfs)
    finally:
        hdfs.stop()
    return run


def run_naive(args: argparse.Namespace, env: dict[str, str], points: list[Point], workdir: Path) -> ServerRun:
    run = ServerRun("naive")
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "bench.naive_server", "--port", str(port)]

    def measure(process: subprocess.Popen) -> None:
        run.points = run_points("naive", f"{base_url}/predict", points, args)

    return serve(run, command, {**env, "MODEL_DIR": str(args.model_dir)}, f"{base_url}/ready", workdir, measure)


def ensure_infinity_venv(venv: Path) -> float | None:
    """Create `venv` with infinity-emb unless it is there; the seconds the install took, or None. torch goes in
    first and alone (the CPU wheel this machine holds); then the requirements, which pin torch too, so pip does not
    replace it."""
    executable = venv / "bin" / "infinity_emb"
    if executable.exists():
        return None
    print(f"installing infinity-emb into {venv} (first use; a few minutes) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [*pip, TORCH_PIN],
        [*pip, "-r", str(INFINITY_REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"installing infinity-emb failed at {shlex.join(step)}:\n{done.stderr[-3000:]}")
    if not executable.exists():
        raise SystemExit(f"installed infinity-emb, but {executable} is missing")
    return round(time.perf_counter() - started, 1)


def run_infinity(args: argparse.Namespace, env: dict[str, str], points: list[Point], workdir: Path) -> ServerRun:
    run = ServerRun("infinity")
    run.extra["install_s"] = ensure_infinity_venv(args.infinity_venv)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        str(args.infinity_venv / "bin" / "infinity_emb"), "v2",
        "--model-id", str(args.model_dir), "--served-model-name", INFINITY_MODEL_NAME,
        "--engine", "torch", "--batch-size", "32", "--device", "cpu",
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning",  # as the other two run: no access log line per request
    ]  # fmt: skip
    infinity_env = {
        # Its own venv: none of the project's Python paths.
        **{k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        "HF_HUB_OFFLINE": "1",
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",  # no telemetry calls out
        "DO_NOT_TRACK": "1",
    }

    def measure(process: subprocess.Popen) -> None:
        run.points = run_points(
            "infinity", f"{base_url}/classify", points, args, body_format="infinity", model=INFINITY_MODEL_NAME
        )

    return serve(run, command, infinity_env, f"{base_url}/health", workdir, measure)


def machine() -> dict[str, Any]:
    from spam_service.model.cpu import cpu_description

    cpu = cpu_description()
    return {
        "nproc": cpu["cores"],
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu["model"],
        "int8_instructions": cpu["int8_instructions"],
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


SYSTEM_TITLES = {
    "service": "this service, defaults",
    "naive": "naive FastAPI + `transformers.pipeline` per request",
    "infinity": "infinity-emb 0.0.78, torch engine, batch 32",
}


def tables(points: list[Point], runs: dict[str, ServerRun], limit: float) -> str:
    """The issue's table (a row per system), the ratios (a row per point) and the details (a row per run)."""
    labels = [
        f"{p.clients} client{'s' if p.clients > 1 else ''}"
        if p.texts_per_request == 1
        else f"{p.texts_per_request} texts x {p.clients} client{'s' if p.clients > 1 else ''}"
        for p in points
    ]
    header = ["system", *labels, "ready s", "peak RSS MB"]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for name, run in runs.items():
        cells = [
            f"{r['texts_per_s']:.1f}, p50 {fmt(r['latency_ms']['p50'])} ms, p99 {fmt(r['latency_ms']['p99'])} ms"
            for r in run.points
        ]
        ready_and_rss = f"{fmt(run.ready_s, 2)} | {fmt(run.peak_rss_mb)}"
        lines.append(f"| {SYSTEM_TITLES[name]} | {' | '.join(cells)} | {ready_and_rss} |")

    service, naive, infinity = (runs.get(name) for name in SYSTEMS)
    lines += ["", "| texts/req x clients | service/naive | service/infinity | service/limit |", "|---|---:|---:|---:|"]
    for i, point in enumerate(points):
        s = service.points[i]["texts_per_s"] if service else None
        lines.append(
            f"| {point.label} | {ratio(s, naive.points[i]['texts_per_s'] if naive else None)} "
            f"| {ratio(s, infinity.points[i]['texts_per_s'] if infinity else None)} | {ratio(s, limit)} |"
        )

    lines += [
        "",
        "| system | texts/req x clients | texts/s | req/s | p50 ms | p95 ms | p99 ms | max ms | non-2xx "
        "| socket errors | wrk CPU % |",
        "|---|---|" + "---:|" * 9,
    ]
    for name, run in runs.items():
        for r in run.points:
            latency, socket_errors = r["latency_ms"], sum(r["socket_errors"].values())
            lines.append(
                f"| {name} | {r['point']} | {r['texts_per_s']:.1f} | {r['requests_per_s']:.1f} "
                f"| {fmt(latency['p50'])} | {fmt(latency['p95'])} | {fmt(latency['p99'])} | {fmt(latency['max'])} "
                f"| {r['non_2xx']} | {socket_errors} | {r['cpu_percent']:.0f} |"
            )
    return "\n".join(lines)


def parse_points(text: str) -> list[Point]:
    points = []
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", item)
        if not match or min(int(match[1]), int(match[2])) < 1:
            raise argparse.ArgumentTypeError(f"expected TEXTSxCLIENTS[,...] with positive numbers, got {text!r}")
        points.append(Point(int(match[1]), int(match[2])))
    return points


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of seconds >= 1, got {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the service against the naive way and infinity-emb.")
    parser.add_argument(
        "--points", type=parse_points, default=parse_points(DEFAULT_POINTS),
        help=f"load points, texts per request x clients (default {DEFAULT_POINTS})",
    )  # fmt: skip
    parser.add_argument("--duration", type=positive_int, default=15, help="measured seconds per point (wrk: whole)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each point (0: none)")
    parser.add_argument("--backend", help="INFERENCE_BACKEND for the service and the limit (default: the service's)")
    parser.add_argument("--skip-other-limits", action="store_true", help="measure only the served backend's limit")
    for name in SYSTEMS:
        parser.add_argument(f"--skip-{name}", action="store_true", help=f"do not run {SYSTEM_TITLES[name]}")
    parser.add_argument("--model-dir", type=Path, default=Path("weights/spam-minilm"))
    parser.add_argument("--messages", type=Path, default=Path("data/prepared/test.jsonl"))
    parser.add_argument("--infinity-venv", type=Path, default=DEFAULT_INFINITY_VENV, help="created on first use")
    parser.add_argument("--json-out", type=Path, default=Path(".bench/serving.json"), help="every result, as JSON")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    args.model_dir, args.messages = args.model_dir.resolve(), args.messages.resolve()
    args.infinity_venv = args.infinity_venv.absolute()  # not resolved: a venv's python is a symlink to keep
    for path in (args.model_dir / "config.json", args.messages):
        if not path.is_file():
            parser.error(f"{path} not found (run from the repository root, or pass --model-dir / --messages)")
    chosen = [name for name in SYSTEMS if not getattr(args, f"skip_{name}")]
    if not chosen:
        parser.error("every system is skipped")

    command_line = shlex.join(["python", "-m", "bench.serving", *(sys.argv[1:] if argv is None else argv)])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    if args.backend:
        env["INFERENCE_BACKEND"] = args.backend
    points: list[Point] = args.points
    load_before = load_average()
    runners = {"service": run_service, "naive": run_naive, "infinity": run_infinity}
    runs: dict[str, ServerRun] = {}

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        workdir = Path(tmp)
        messages = load_messages(args.messages)
        args.texts_files = {
            k: write_texts(workdir / f"texts-{k}.jsonl", messages, k) for k in {p.texts_per_request for p in points}
        }
        ceiling_before = run_ceiling(args, env, workdir, "before")
        # The limit of every other backend the model directory has, for the table of engines (fewer pass sizes).
        other_limits = {
            backend: run_ceiling(args, {**env, "INFERENCE_BACKEND": backend}, workdir, "before", OTHER_LIMIT_SIZES)
            for backend in loadable_backends(args.model_dir)
            if backend != ceiling_before["backend"] and not args.skip_other_limits
        }
        for name in chosen:
            runs[name] = runners[name](args, env, points, workdir)
        ceiling_after = run_ceiling(args, env, workdir, "after")
    # The machine's speed drifts over a run: ratios use the higher of the two, the less flattering one.
    limit = max(ceiling_before["texts_per_s"], ceiling_after["texts_per_s"])

    info = machine()
    lines = [tables(points, runs, limit), ""]
    limit_details = {k: v for k, v in ceiling_before.items() if k != "texts_per_s"}
    lines.append(
        f"- limit (`bench.ceiling`, the engine in-process, no HTTP): {limit:.1f} texts/s (before the servers "
        f"{ceiling_before['texts_per_s']:.1f}, after {ceiling_after['texts_per_s']:.1f}; the higher is used); "
        f"{json.dumps(limit_details)}"
    )
    lines.append(
        "- the limit of each backend: "
        + "; ".join(
            f"{c['backend']} {c['texts_per_s']:.1f} texts/s (best at {c['best_texts_per_pass']} a pass)"
            for c in [ceiling_before, *other_limits.values()]
        )
    )
    if "service" in runs:
        service = runs["service"]
        status = service.extra.get("status", {})
        inference, request_log = status.get("inference", {}), status.get("request_log", {})
        answered = service.extra["request_log_answered_counted"]
        in_flight = service.extra["request_log_in_flight_at_stops"]
        delivered = service.extra["request_log_delivered"]
        after_stop = service.extra["request_log_delivered_after_stop"]
        verdict = "ok" if answered <= delivered <= after_stop <= answered + in_flight else "MISMATCH"
        lines += [
            f"- service engine (/status): {json.dumps(inference)}",
            f"- request log in HDFS: {delivered} lines for {answered} 2xx answers wrk counted, plus up to {in_flight} "
            f"in flight at wrk's stops: {verdict} (spool lines waiting {request_log.get('lines_waiting', '?')}, last "
            f"error {request_log.get('last_error')}; {after_stop} after shutdown)",
        ]
    if "infinity" in runs:
        install_s = runs["infinity"].extra["install_s"]
        lines.append(
            f"- infinity-emb venv: {'installed in ' + fmt(install_s, 0) + ' s this run' if install_s else 'reused'}"
            f" ({args.infinity_venv})"
        )
    lines += [
        "- time to ready: spawn to the first 200 from /ready (infinity: /health); peak RSS: VmHWM summed over the "
        "server's processes (" + ", ".join(f"{n} {r.processes}" for n, r in runs.items()) + ")",
        "- stopped: " + "; ".join(f"{n} {r.stopped}" for n, r in runs.items()),
        f"- wrk: -t1, one keep-alive connection per client; per point {args.warmup} s warm-up, a pause for what it "
        f"left in flight, {args.duration} s measured; its CPU is in the last column of the details",
        f"- machine: {info['nproc']} CPUs ({info['cpu_model']}), Python {info['python']}, {info['platform']}",
        f"- load average: {load_before} before, {load_average()} after",
        f"- command: `HF_HUB_OFFLINE=1 {command_line}`",
    ]
    print("\n".join(lines), flush=True)

    results = {
        "command": command_line,
        "machine": info,
        "load_average": {"before": load_before, "after": load_average()},
        "settings": {"duration_s": args.duration, "warmup_s": args.warmup, "backend": args.backend},
        "limit": {"texts_per_s": limit, "before": ceiling_before, "after": ceiling_after},
        "other_limits": other_limits,
        **{name: vars(run) for name, run in runs.items()},
    }
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results: {args.json_out}", file=sys.stderr)
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
