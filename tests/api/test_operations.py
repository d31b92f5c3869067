"""/ready, /status and /metrics show what breaks behind the API: a crashed background thread, a file HDFS cannot
take."""

import time

import httpx

from spam_service.api import create_app
from spam_service.request_log import FileRequestLogSink, HdfsRequestLogSink
from spam_service.request_log.webhdfs import HdfsFiles
from spam_service.settings import Settings
from tests.support.samples import HAM
from tests.support.services import services_around


class CrashingOnce:
    """A journal store whose first write fails with a bug (not an OSError), then writes through."""

    def __init__(self, store) -> None:
        self.store = store
        self.crashed = False

    def write(self, lines) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("a bug in the journal")
        self.store.write(lines)

    def describe(self) -> str:
        return self.store.describe()


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_a_crashed_journal_fails_its_request_with_503_shows_everywhere_and_restarts(
    trained_classifier, live_server_factory, tmp_path
):
    settings = Settings(request_log_dir=tmp_path / "logs", prediction_store_url=f"sqlite:///{tmp_path / 'p.db'}")
    sink = FileRequestLogSink(settings.request_log_dir)
    sink._journal.store = CrashingOnce(sink._journal.store)
    live = live_server_factory(create_app(services_around(trained_classifier, settings, request_log=sink)))

    failed = httpx.post(f"{live.url}/predict", json={"text": [HAM]})
    assert failed.status_code == 503 and "retry-after" in failed.headers, failed.text
    status = httpx.get(f"{live.url}/status").json()
    [journal] = [t for t in status["threads"] if t["name"] == "request-log-file"]
    assert journal["crashes"] == 1 and "RuntimeError: a bug in the journal" in journal["last_crash"]
    assert {t["name"] for t in status["threads"]} >= {"micro-batcher", "request-log-file", "prediction-store"}
    metrics = httpx.get(f"{live.url}/metrics").text
    assert 'spam_service_thread_crashes_total{thread="request-log-file"} 1.0' in metrics
    # Restarted after its back-off: requests are answered again, and the crash stays on record.
    wait_for(lambda: httpx.post(f"{live.url}/predict", json={"text": [HAM]}).status_code == 200)
    assert httpx.get(f"{live.url}/ready").status_code == 200
    assert 'spam_service_thread_up{thread="request-log-file"} 1.0' in httpx.get(f"{live.url}/metrics").text


def test_a_thread_that_stays_down_makes_the_service_not_ready(trained_classifier, live_server_factory, tmp_path):
    settings = Settings(request_log_dir=tmp_path / "logs", prediction_store_url=f"sqlite:///{tmp_path / 'p.db'}")
    sink = FileRequestLogSink(settings.request_log_dir)
    sink._journal.store = CrashingOnce(sink._journal.store)
    [journal_thread] = sink.threads()
    journal_thread.restart = False  # as if restarting were unsafe
    live = live_server_factory(create_app(services_around(trained_classifier, settings, request_log=sink)))
    assert httpx.post(f"{live.url}/predict", json={"text": [HAM]}).status_code == 503
    wait_for(lambda: httpx.get(f"{live.url}/ready").status_code == 503)
    ready = httpx.get(f"{live.url}/ready").json()
    assert ready["status"] == "not_ready"
    assert [t["alive"] for t in ready["threads"] if t["name"] == "request-log-file"] == [False]
    assert 'spam_service_thread_up{thread="request-log-file"} 0.0' in httpx.get(f"{live.url}/metrics").text


def test_a_file_hdfs_cannot_take_is_listed_in_ready_and_status(
    trained_classifier, live_server_factory, webhdfs, tmp_path
):
    settings = Settings(request_log_dir=tmp_path / "logs", prediction_store_url=f"sqlite:///{tmp_path / 'p.db'}")
    sink = HdfsRequestLogSink(
        HdfsFiles(webhdfs.url),
        log_dir="/logs",
        spool_dir=tmp_path / "spool",
        flush_interval=0.1,
        day=lambda: "2031-01-01",
    )
    name = f"date=2031-01-01/{sink.file_name}"
    # Someone else's bytes where this process's file must go: no line can be added to it without an operator.
    HdfsFiles(webhdfs.url).create(f"/logs/{name}", b'{"someone":"else"}\n' * 50)
    live = live_server_factory(create_app(services_around(trained_classifier, settings, request_log=sink)))
    assert httpx.post(f"{live.url}/predict", json={"text": [HAM]}).status_code == 200  # answered: spooled
    wait_for(lambda: httpx.get(f"{live.url}/status").json()["request_log"]["broken"])
    for endpoint in ("/status", "/ready"):
        state = httpx.get(f"{live.url}{endpoint}").json()["request_log"]
        [broken] = state["broken"]
        assert broken.startswith(f"{name}: ") and "someone else" in state["last_error"]
        assert state["lines_waiting"] == 1  # kept in the spool for the operator
    assert httpx.get(f"{live.url}/ready").status_code == 200  # lines are still stored durably
