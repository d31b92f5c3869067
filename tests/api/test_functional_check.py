"""scripts/functional_check.py (the CD scenario) against a live service; the request log read by a shell command,
as CD reads HDFS through `hdfs dfs -cat`."""

import json
import shlex
import subprocess
import sys

from tests.support import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "functional_check.py"


def run_check(url: str, cat_command: str, report, wait: float = 15) -> subprocess.CompletedProcess:
    command = [sys.executable, str(SCRIPT), "--url", url, "--hdfs-cat", cat_command, "--report", str(report)]
    return subprocess.run([*command, "--wait", str(wait)], capture_output=True, text=True, timeout=120)


def test_the_scenario_passes_against_a_working_service(make_app, live_server_factory, tmp_path):
    app, settings = make_app()
    live = live_server_factory(app)
    cat = f"sh -c {shlex.quote(f'cat {settings.request_log_dir}/*.jsonl')}"
    result = run_check(live.url, cat, tmp_path / "report.json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] and len(report["checks"]) == 4
    assert all(check["ok"] for check in report["checks"])


def test_the_scenario_fails_when_the_line_never_reaches_the_log(make_app, live_server_factory, tmp_path):
    app, _ = make_app()
    live = live_server_factory(app)
    result = run_check(live.url, "cat /dev/null", tmp_path / "report.json", wait=2)
    assert result.returncode == 1
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [check["check"] for check in report["checks"] if not check["ok"]]
    assert failed == ["request line in the request log"]
