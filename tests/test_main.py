"""`python -m spam_service` as a user runs it: one-line start-up failures, serving, graceful shutdown."""

import json
import signal
import subprocess
import sys

import httpx
import pytest

from tests.support.live_server import free_port
from tests.support.service_process import run_service, stop, wait_until_ready


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


def one_line_failure(process: subprocess.Popen) -> str:
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_prediction_store_that_is_no_database_stops_start_up_with_one_line(tmp_path):
    (tmp_path / "store.sqlite3").write_bytes(b"this is a text file, not an SQLite database\n" * 100)
    line = one_line_failure(
        run_service({"REQUEST_LOG_DIR": str(tmp_path), "PREDICTION_STORE_URL": f"sqlite:///{tmp_path}/store.sqlite3"})
    )
    assert "cannot start: prediction store" in line and "file is not a database" in line
    assert "PREDICTION_STORE_URL" in line


def test_a_schema_revision_this_release_does_not_know_stops_start_up_with_one_line(tmp_path):
    """A database migrated by a newer release (or by hand): Alembic's own error, not a traceback."""
    import sqlite3

    with sqlite3.connect(tmp_path / "store.sqlite3") as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    line = one_line_failure(
        run_service({"REQUEST_LOG_DIR": str(tmp_path), "PREDICTION_STORE_URL": f"sqlite:///{tmp_path}/store.sqlite3"})
    )
    assert "migrating the schema failed" in line and "9999_from_the_future" in line
    assert "python -m spam_service.prediction_store current" in line


def test_served_process_answers_and_flushes_its_request_log_on_sigterm(trained_model_dir, tmp_path):
    port = free_port()
    logs = tmp_path / "logs"
    process = run_service(
        {"PORT": str(port), "HOST": "127.0.0.1", "MODEL_DIR": str(trained_model_dir), "REQUEST_LOG_DIR": str(logs)}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url)
        response = httpx.post(f"{url}/predict", json={"text": ["URGENT! Claim your free prize now, txt WIN"]})
        assert response.status_code == 200
        request_id = response.json()["request_id"]
    finally:
        stdout = stop(process)
    lines = [json.loads(line) for line in stdout.splitlines()]  # the application log: JSON lines by default
    assert any(line["message"] == "stopped; request log flushed" for line in lines)
    [predict_line] = [line for line in lines if line["message"].startswith("predict ")]
    assert predict_line["request_id"] == request_id  # application log names the request
    records = [json.loads(line) for path in logs.glob("*.jsonl") for line in path.open()]
    assert [r["request_id"] for r in records] == [request_id]


SECRET_TEXT = "my bank pin is 4711, call me at 0161 496 0000"


@pytest.mark.parametrize("log_texts", [False, True], ids=["default", "LOG_TEXTS=true"])
def test_message_texts_reach_stdout_only_with_log_texts(trained_model_dir, tmp_path, log_texts):
    port = free_port()
    env = {"PORT": str(port), "HOST": "127.0.0.1", "MODEL_DIR": str(trained_model_dir)}
    env |= {"REQUEST_LOG_DIR": str(tmp_path / "logs"), "LOG_FORMAT": "json"}
    if log_texts:
        env["LOG_TEXTS"] = "true"
    process = run_service(env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url)
        answered = httpx.post(f"{url}/predict", json={"text": [SECRET_TEXT, "see you at 7?"]})
        assert answered.status_code == 200
        refused = httpx.post(f"{url}/predict", json={"text": [SECRET_TEXT, 42]})  # a 4xx is logged too (access log)
        assert refused.status_code == 422
    finally:
        stdout = stop(process)

    lines = [json.loads(line) for line in stdout.splitlines()]  # every line, uvicorn's included, is one JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= line.keys() for line in lines)
    assert all(line["time"].endswith("Z") for line in lines)
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "uvicorn.access", "spam_service.api.routes.predict"} <= loggers
    assert any("Uvicorn running on" in line["message"] for line in lines)  # uvicorn's start-up line, as JSON
    by_request = {}
    for line in lines:
        by_request.setdefault(line["request_id"], []).append(line)
    answered_id, refused_id = answered.json()["request_id"], refused.json()["request_id"]
    assert {line["logger"] for line in by_request[answered_id]} == {"spam_service.api.routes.predict", "uvicorn.access"}
    assert [line["logger"] for line in by_request[refused_id]] == ["uvicorn.access"]
    assert all(line["request_id"] is None for line in lines if line["logger"] == "uvicorn.error")  # outside requests

    [predict_line] = [line for line in by_request[answered_id] if line["logger"] == "spam_service.api.routes.predict"]
    if log_texts:
        assert SECRET_TEXT in predict_line["message"]
        assert stdout.count(SECRET_TEXT) == 1  # only the answered request's line; refused bodies are never logged
    else:
        assert SECRET_TEXT not in stdout and "4711" not in stdout
        assert predict_line["message"].startswith("predict texts=2 ")


def test_keys_never_reach_the_logs_only_their_names_do(trained_model_dir, tmp_path):
    store = tmp_path / "api-keys.json"
    created = {}
    for role, name in (("predict", "billing-app"), ("admin", "ops")):
        command = [sys.executable, "-m", "spam_service", "keys", "--file", str(store), "create"]
        result = subprocess.run(
            [*command, "--role", role, "--name", name],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        created[name] = result.stdout.strip()
    wrong = "spam_" + "x" * 43
    port = free_port()
    process = run_service(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "MODEL_DIR": str(trained_model_dir),
            "REQUEST_LOG_DIR": str(tmp_path / "logs"),
            "API_KEYS_FILE": str(store),
            "LOG_LEVEL": "debug",
        }
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url)
        as_app = {"authorization": f"Bearer {created['billing-app']}"}
        assert httpx.post(f"{url}/predict", json={"text": ["hello"]}, headers=as_app).status_code == 200
        assert httpx.post(f"{url}/predict", json={"text": ["hi"]}, headers={"x-api-key": wrong}).status_code == 401
        assert httpx.get(f"{url}/status", headers=as_app).status_code == 403
        assert httpx.get(f"{url}/status", headers={"authorization": f"Bearer {created['ops']}"}).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    output = stdout + stderr + "".join(p.read_text() for p in (tmp_path / "logs").glob("*.jsonl"))
    for key in (*created.values(), wrong):
        assert key not in output
    assert "key=billing-app" in stdout  # the predict line names the caller
    assert '"requested_by":"billing-app"' in output  # so does the request log
