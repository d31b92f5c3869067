"""`python -m spam_service` as a separate process, as a user runs it, for tests that need a real process: its exit
status, its signals, its memory."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.support import REPO_ROOT
from tests.support.live_server import free_port


def run_service(
    env_overrides: dict[str, str], cwd: Path = REPO_ROOT, stdout: int | IO = subprocess.PIPE
) -> subprocess.Popen:
    """Start the service; `stdout` (its application log) goes to a file for a process that serves much: a pipe
    nobody reads fills up and blocks it."""
    # Embedded defaults: no Vault or HDFS settings leak in from the developer's shell.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "HDFS_"))}
    env = {**inherited, "HF_HUB_OFFLINE": "1", **env_overrides}
    return subprocess.Popen(
        [sys.executable, "-m", "spam_service"],
        cwd=cwd,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_ready(process: subprocess.Popen, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"not ready within {timeout} s"
        time.sleep(0.1)


def stop(process: subprocess.Popen) -> str:
    """SIGTERM, then what the process wrote to stdout (its application log, when piped)."""
    process.send_signal(signal.SIGTERM)
    stdout, _ = process.communicate(timeout=60)
    # uvicorn re-raises SIGTERM once its graceful shutdown is done, so the status is 0 or "killed by SIGTERM".
    assert process.returncode in (0, -signal.SIGTERM)
    return stdout or ""


def memory_kib(pid: int, field: str) -> int:
    """A memory figure of the process from /proc (VmRSS: resident now; VmHWM: peak resident), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current resident size (Linux: writing 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class ServiceProcess:
    url: str
    port: int
    process: subprocess.Popen


def start_service(model_dir: Path, workdir: Path, *, wait: bool = True, **settings: str) -> ServiceProcess:
    """The service on a free loopback port, serving `model_dir`, its request log, prediction store and application
    log (stdout.log) under `workdir`; `settings` are more environment variables. With `wait`, returns once ready
    (without: call `wait_until_ready`, e.g. after starting others, so that their model loads overlap)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "MODEL_DIR": str(model_dir),
        "REQUEST_LOG_DIR": str(workdir / "logs"),
        "PREDICTION_STORE_URL": f"sqlite:///{workdir / 'predictions.sqlite3'}",
        "LOG_LEVEL": "warning",
        **settings,
    }
    process = run_service(env, stdout=(workdir / "stdout.log").open("w"))
    url = f"http://127.0.0.1:{port}"
    if wait:
        wait_until_ready(process, url)
    return ServiceProcess(url, port, process)
