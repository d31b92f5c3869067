"""POST /admin/model on a live app: swaps to another model without a failed request, refuses what cannot serve
(the old model keeps serving, /status says why), one swap at a time."""

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from spam_service.api import create_app
from spam_service.settings import Settings
from tests.support.live_server import start_live_server
from tests.support.model_copies import model_copy
from tests.support.samples import HAM, SPAM, read_request_log
from tests.support.services import services_around
from tests.support.tiny_models import build_tiny_checkpoint

NEW_VERSION = "00000000a2b2"


@pytest.fixture
def server(trained_classifier, tmp_path):
    settings = Settings(
        request_log_dir=tmp_path / "logs",
        prediction_store_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        inference_threads=1,
    )
    live = start_live_server(create_app(services_around(trained_classifier, settings)))
    yield live
    live.stop()


@pytest.fixture
def new_model_dir(trained_model_dir, tmp_path):
    return model_copy(trained_model_dir, tmp_path / "new-model", version=NEW_VERSION)


def served_version(url: str) -> str:
    return httpx.post(f"{url}/predict", json={"text": [HAM]}).json()["model"]["version"]


def test_a_swap_answers_both_models_and_everything_names_the_new_one(
    server, new_model_dir, trained_classifier, tmp_path
):
    response = httpx.post(f"{server.url}/admin/model", json={"uri": str(new_model_dir)}, timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["previous"] == {
        "name": trained_classifier.name,
        "version": trained_classifier.version,
        "registry_version": None,
        "uri": trained_classifier.uri,
    }
    assert body["current"] == {
        "name": "spam-minilm",
        "version": NEW_VERSION,
        "registry_version": None,
        "uri": str(new_model_dir),
    }
    assert 0 < body["load_s"] < 60

    answer = httpx.post(f"{server.url}/predict", json={"text": [SPAM, HAM]}).json()
    assert answer["model"] == {"name": "spam-minilm", "version": NEW_VERSION, "registry_version": None}
    assert [p["label"] for p in answer["predictions"]] == ["spam", "ham"]
    [line] = [line for line in read_request_log(tmp_path / "logs") if line["request_id"] == answer["request_id"]]
    assert line["model"] == {"name": "spam-minilm", "version": NEW_VERSION, "registry_version": None}

    status = httpx.get(f"{server.url}/status").json()
    assert status["model"] == body["current"]
    swap = status["model_swap"]
    assert (swap["state"], swap["last_result"], swap["last_error"], swap["swaps"]) == ("idle", "swapped", None, 1)
    assert swap["last_uri"] == str(new_model_dir) and swap["last_attempt_at"].endswith("Z")
    metrics = httpx.get(f"{server.url}/metrics").text
    backend = json.loads((new_model_dir / "serving.json").read_text())["default_backend"]
    labels = f'backend="{backend}",name="spam-minilm",registry_version="",version="{NEW_VERSION}"'
    assert f"spam_service_model_info{{{labels}}} 1.0" in metrics
    # The texts each model classified, under its own version (the new model's two; the old one's none here).
    assert f'spam_service_predictions_total{{label="spam",model_version="{NEW_VERSION}"}} 1.0' in metrics
    assert f'spam_service_predictions_total{{label="ham",model_version="{NEW_VERSION}"}} 1.0' in metrics
    old = trained_classifier.version
    assert f'spam_service_predictions_total{{label="ham",model_version="{old}"}} 0.0' in metrics


@pytest.fixture(scope="module")
def untrained_model_dir(tmp_path_factory) -> Path:
    """Random weights, room for MAX_TOKENS=256: it loads, then mislabels the canary texts."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("untrained"), "bert", max_positions=512)


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        ("untrained_model_dir", "mislabels"),  # loads, fails the canary texts
        ("tiny_bert_dir", "MAX_TOKENS=256 exceeds the model's 64 positions"),  # fails to load
    ],
)
def test_a_model_that_cannot_serve_is_refused_with_422_and_the_old_one_keeps_serving(
    server, trained_classifier, request, model, reason
):
    candidate = request.getfixturevalue(model)
    response = httpx.post(f"{server.url}/admin/model", json={"uri": str(candidate)}, timeout=60)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert reason in detail and detail.endswith(f"spam-minilm {trained_classifier.version} keeps serving")
    assert served_version(server.url) == trained_classifier.version
    swap = httpx.get(f"{server.url}/status").json()["model_swap"]
    assert (swap["last_result"], swap["refusals"], swap["state"]) == ("refused", 1, "idle")
    assert reason in swap["last_error"]


def test_a_directory_without_a_model_is_404_and_changes_nothing(server, tmp_path, trained_classifier):
    response = httpx.post(f"{server.url}/admin/model", json={"uri": str(tmp_path / "nothing")})
    assert response.status_code == 404
    assert response.json()["detail"].startswith(f"no model at {tmp_path / 'nothing'}/ (config.json missing)")
    assert served_version(server.url) == trained_classifier.version


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "send exactly one of 'uri' and 'version'"),
        ({"uri": "/m", "version": "3"}, "send exactly one of 'uri' and 'version'"),
        ({"version": "three"}, 'version must be a registry version number such as "3", not "three"'),
        ({"version": 3}, "version must be a string, not a number"),
        ({"uri": ""}, "uri is empty"),
        ({"uri": "/m", "force": True}, "unknown key 'force'"),
        ([], "request body must be a JSON object"),
    ],
)
def test_a_body_that_names_no_single_model_is_refused_with_422_saying_what_to_send(server, body, says):
    response = httpx.post(f"{server.url}/admin/model", json=body)
    assert response.status_code == 422, response.text
    assert says in response.json()["detail"]


def test_a_second_swap_while_one_loads_gets_409(server, new_model_dir):
    first: list[httpx.Response] = []
    loading = threading.Thread(
        target=lambda: first.append(
            httpx.post(f"{server.url}/admin/model", json={"uri": str(new_model_dir)}, timeout=60)
        )
    )
    loading.start()
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/status").json()["model_swap"]["state"] != "swapping":
        assert time.monotonic() < deadline and loading.is_alive(), "the swap never showed as in progress"
        time.sleep(0.005)
    second = httpx.post(f"{server.url}/admin/model", json={"uri": str(new_model_dir)})
    loading.join(60)
    assert second.status_code == 409
    assert second.json()["detail"].startswith(f"a model swap to {new_model_dir} is in progress")
    assert first[0].status_code == 200


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int
    version: str | None


def test_under_load_a_swap_fails_no_request_and_switches_each_client_once(server, new_model_dir, trained_classifier):
    """8 clients POST /predict in a loop while an admin swaps: every request succeeds, each is answered by the old
    or the new model, each client sees old...old new...new, and every request sent after the swap's 200 gets the
    new model."""
    old_version = trained_classifier.version
    stop = threading.Event()
    answers: list[list[Answer]] = [[] for _ in range(8)]

    def client(mine: list[Answer]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = http.post("/predict", json={"text": [HAM, SPAM]})
                    version = response.json().get("model", {}).get("version")
                    mine.append(Answer(started, time.monotonic(), response.status_code, version))
                except httpx.HTTPError as exc:
                    mine.append(Answer(started, time.monotonic(), -1, repr(exc)))

    clients = [threading.Thread(target=client, args=(mine,)) for mine in answers]
    for thread in clients:
        thread.start()
    time.sleep(1.0)
    swap = httpx.post(f"{server.url}/admin/model", json={"uri": str(new_model_dir)}, timeout=60)
    swapped_at = time.monotonic()
    time.sleep(1.5)
    stop.set()
    for thread in clients:
        thread.join(60)

    assert swap.status_code == 200, swap.text
    every = [answer for mine in answers for answer in mine]
    failed = [answer for answer in every if answer.status != 200]
    assert not failed, f"{len(failed)} of {len(every)} requests failed: {failed[:3]}"
    assert {answer.version for answer in every} == {old_version, NEW_VERSION}
    for mine in answers:
        versions = [answer.version for answer in mine]
        switch = versions.index(NEW_VERSION) if NEW_VERSION in versions else len(versions)
        assert set(versions[:switch]) <= {old_version} and set(versions[switch:]) == {NEW_VERSION}, versions
    late = [answer for answer in every if answer.started > swapped_at]
    assert late and all(answer.version == NEW_VERSION for answer in late)
    print(f"{len(every)} requests across the swap, 0 failed; swap took {swap.json()['load_s']} s")
