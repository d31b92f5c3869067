"""`python -m spam_service` as a user runs it: one-line start-up failures, serving, graceful shutdown."""

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port


def run_service(env_overrides: dict[str, str], cwd=REPO_ROOT) -> subprocess.Popen:
    # Embedded defaults: no Vault or HDFS settings leak in from the developer's shell.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_", "HDFS_"))}
    env = {**inherited, "HF_HUB_OFFLINE": "1", **env_overrides}
    return subprocess.Popen(
        [sys.executable, "-m", "spam_service"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MODEL_DIR": "/nonexistent/model"}, "cannot start: no model at /nonexistent/model/"),
        ({"PORT": "eighty"}, "invalid settings: PORT"),
    ],
)
def test_start_up_failure_exits_non_zero_with_one_line(env, expected, tmp_path):
    process = run_service({**env, "REQUEST_LOG_DIR": str(tmp_path)})
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert expected in lines[0]
    if "MODEL_DIR" in env:
        assert "make model" in lines[0]


def test_served_process_answers_and_flushes_its_request_log_on_sigterm(trained_model_dir, tmp_path):
    port = free_port()
    logs = tmp_path / "logs"
    process = run_service(
        {"PORT": str(port), "HOST": "127.0.0.1", "MODEL_DIR": str(trained_model_dir), "REQUEST_LOG_DIR": str(logs)}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "not ready within 60 s"
            time.sleep(0.1)
        response = httpx.post(f"{url}/predict", json={"text": ["URGENT! Claim your free prize now, txt WIN"]})
        assert response.status_code == 200
        request_id = response.json()["request_id"]
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=60)
    # uvicorn re-raises SIGTERM once its graceful shutdown is done, so the status is 0 or "killed by SIGTERM".
    assert process.returncode in (0, -signal.SIGTERM)
    assert "stopped; request log flushed" in stdout
    assert f"request_id={request_id}" in stdout  # application log names the request
    records = [json.loads(line) for path in logs.glob("*.jsonl") for line in path.open()]
    assert [r["request_id"] for r in records] == [request_id]
