"""wrk, the load generator (C, ~1% of a core at 32 connections: it leaves the CPU to the service under test), run
with `wrk_predict.lua`, and what it reports."""

import re
import shutil
import subprocess
from pathlib import Path

WRK_SCRIPT = Path(__file__).parent / "wrk_predict.lua"


def run_wrk(url: str, body_file: Path, *, connections: int, seconds: int) -> dict:
    """POST `body_file` to `url` on `connections` connections for `seconds`: statuses, latencies (s), requests/s."""
    wrk = shutil.which("wrk")
    assert wrk, "wrk is not installed: scripts/install_system_packages.sh installs it (make test runs it)"
    result = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "-s", str(WRK_SCRIPT), url],
        env={"WRK_BODY": str(body_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    statuses = dict(re.findall(r" (\d{3})=(\d+)", re.search(r"^STATUS(.*)$", output, re.M).group(1)))
    return {
        "statuses": {int(k): int(v) for k, v in statuses.items()},
        "retry_after_missing": int(re.search(r"RETRY_AFTER_MISSING (\d+)", output).group(1)),
        "latency_max_s": int(re.search(r"LATENCY_MAX_US (\d+)", output).group(1)) / 1e6,
        "latency_p99_s": int(re.search(r"LATENCY_P99_US (\d+)", output).group(1)) / 1e6,
        "latency_p50_s": int(re.search(r"LATENCY_P50_US (\d+)", output).group(1)) / 1e6,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "socket_errors": re.search(r"Socket errors:.*", output).group(0) if "Socket errors" in output else None,
        "output": output,
    }
