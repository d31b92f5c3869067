"""POST /feedback against a real uvicorn serving the trained model, with the prediction store on SQLite and on a
real PostgreSQL server: stored at once after /predict, idempotent, latest wins, logged; bad input is a 4xx."""

import time

import httpx
import pytest
import sqlalchemy as sa

from spam_service.prediction_store.schema import feedback
from tests.support.samples import HAM, SPAM, read_request_log


@pytest.fixture
def server(make_app, live_server_factory, store_url):
    # A long flush interval: the predictions are still queued when the feedback arrives.
    app, settings = make_app(prediction_store_url=store_url, prediction_store_flush_interval=30)
    live = live_server_factory(app)
    live.settings, live.store_url = settings, store_url
    return live


def predict(server, texts: list[str]) -> dict:
    response = httpx.post(f"{server.url}/predict", json={"text": texts})
    assert response.status_code == 200, response.text
    return response.json()


def stored_feedback(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.select(feedback.c.request_id, feedback.c.text_index,
                                                                           feedback.c.label))]  # fmt: skip
    finally:
        engine.dispose()


def test_feedback_sent_right_after_the_prediction_is_stored_and_appended_to_the_request_log(server, trained_classifier):
    request_id = predict(server, [SPAM, HAM])["request_id"]
    response = httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": 0, "label": "ham"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "request_id": request_id,
        "index": 0,
        "label": "ham",
        "predicted_label": "spam",
        "correct": False,
        "replaced": False,
    }
    assert stored_feedback(server.store_url) == [(request_id, 0, "ham")]
    lines = [line for line in read_request_log(server.settings.request_log_dir) if line.get("event") == "feedback"]
    assert len(lines) == 1
    line = lines[0]
    assert (line["request_id"], line["index"], line["label"], line["predicted_label"]) == (request_id, 0, "ham", "spam")
    assert line["model"] == {
        "name": trained_classifier.name,
        "version": trained_classifier.version,
        "registry_version": None,  # served from a directory
    }
    assert line["timestamp"].endswith("Z")


def test_the_same_feedback_twice_answers_the_same_and_stores_one_row(server):
    request_id = predict(server, [HAM])["request_id"]
    body = {"request_id": request_id, "index": 0, "label": "ham"}
    first, second = (httpx.post(f"{server.url}/feedback", json=body) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {**body, "predicted_label": "ham", "correct": True, "replaced": False}
    assert stored_feedback(server.store_url) == [(request_id, 0, "ham")]
    log = read_request_log(server.settings.request_log_dir)
    assert sum(line.get("event") == "feedback" for line in log) == 1  # a repeat changes nothing, logs nothing


def test_a_different_label_later_replaces_the_earlier_one(server):
    request_id = predict(server, [SPAM, HAM])["request_id"]
    httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": 1, "label": "spam"})
    response = httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": 1, "label": "ham"})
    assert response.status_code == 200, response.text
    assert (response.json()["replaced"], response.json()["correct"]) == (True, True)
    assert stored_feedback(server.store_url) == [(request_id, 1, "ham")]


def test_an_unknown_request_id_is_404_saying_what_to_send(server):
    response = httpx.post(f"{server.url}/feedback", json={"request_id": "0" * 32, "index": 0, "label": "spam"})
    assert response.status_code == 404, response.text
    body = response.json()
    assert "no predictions are stored for request_id" in body["detail"] and "X-Request-ID" in body["detail"]
    assert body["request_id"] == response.headers["x-request-id"] and body["errors"] == []


@pytest.mark.parametrize("index", [2, 10**12])
def test_an_index_past_the_request_s_texts_is_404_naming_the_valid_range(server, index):
    request_id = predict(server, [SPAM, HAM])["request_id"]
    response = httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": index, "label": "ham"})
    assert response.status_code == 404, response.text
    assert f"request {request_id} has 2 predictions; index must be 0..1" in response.json()["detail"]


def test_a_negative_index_is_refused_by_the_schema_the_openapi_document_states(server):
    request_id = predict(server, [SPAM, HAM])["request_id"]
    response = httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": -1, "label": "ham"})
    assert response.status_code == 422, response.text
    assert "index must be 0 or more, not -1" in response.json()["detail"]
    schema = httpx.get(f"{server.url}/openapi.json").json()["components"]["schemas"]["FeedbackRequest"]
    assert schema["properties"]["index"]["minimum"] == 0
    assert stored_feedback(server.store_url) == []


JSON = {"content-type": "application/json"}
GOOD = '"request_id": "abc", "index": 0, "label": "spam"'
BAD_BODIES = [
    # (id, raw body, status, words the detail must contain)
    ("label-not-spam-or-ham", '{"request_id": "abc", "index": 0, "label": "maybe"}', 422,
     ["label must be 'spam' or 'ham', not \"maybe\""]),
    ("label-upper-case", '{"request_id": "abc", "index": 0, "label": "SPAM"}', 422, ["label must be 'spam' or 'ham'"]),
    ("missing-label", '{"request_id": "abc", "index": 0}', 422, ["missing key 'label'", '"index": 0']),
    ("missing-everything", "{}", 422, ["missing key 'request_id'", "missing key 'index'", "missing key 'label'"]),
    ("extra-key", "{" + GOOD + ', "note": "x"}', 422,
     ["unknown key 'note'", "takes only 'request_id', 'index' and 'label'"]),
    ("index-is-string", '{"request_id": "abc", "index": "0", "label": "spam"}', 422,
     ["index must be an integer, not a string"]),
    ("index-is-float", '{"request_id": "abc", "index": 1.5, "label": "spam"}', 422, ["index must be an integer"]),
    ("index-is-bool", '{"request_id": "abc", "index": true, "label": "spam"}', 422,
     ["index must be an integer, not a boolean"]),
    ("request-id-is-number", '{"request_id": 42, "index": 0, "label": "spam"}', 422,
     ["request_id must be a string, not a number"]),
    ("body-is-array", "[" + "{" + GOOD + "}]", 422, ["must be a JSON object", "not an array"]),
    ("broken-json", '{"request_id": ', 400, ["not valid JSON"]),
    ("empty-body", "", 422, ["body is empty"]),
]  # fmt: skip


@pytest.fixture
def sqlite_server(make_app, live_server_factory, tmp_path):
    app, _ = make_app(prediction_store_url=f"sqlite:///{tmp_path / 'predictions.sqlite3'}")
    return live_server_factory(app)


@pytest.mark.parametrize(("body", "status", "words"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES])
def test_bad_feedback_gets_a_4xx_that_says_what_to_fix(sqlite_server, body, status, words):
    response = httpx.post(f"{sqlite_server.url}/feedback", content=body.encode(), headers=JSON)
    assert response.status_code == status, response.text
    payload = response.json()
    for word in words:
        assert word in payload["detail"], payload["detail"]
    assert payload["errors"] and payload["request_id"] == response.headers["x-request-id"]


def test_feedback_not_sent_as_json_is_415(sqlite_server):
    response = httpx.post(
        f"{sqlite_server.url}/feedback", content=b"request_id=a", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415 and "application/json" in response.json()["detail"]


def test_status_shows_the_store_and_ready_stays_200_while_its_database_is_down(
    make_app, live_server_factory, stoppable_postgres
):
    url = stoppable_postgres.create_database("api_outage")
    app, _ = make_app(prediction_store_url=url, prediction_store_flush_interval=0.05)
    live = live_server_factory(app)
    request_id = predict(live, [HAM])["request_id"]
    deadline = time.monotonic() + 10
    while (store := httpx.get(f"{live.url}/status").json()["prediction_store"])["rows_written"] < 1:
        assert time.monotonic() < deadline, store
        time.sleep(0.05)
    assert (store["kind"], store["schema_ready"], store["last_error"]) == ("postgresql", True, None)
    assert stoppable_postgres.password not in store["target"] and ":***@" in store["target"]
    stoppable_postgres.stop()
    try:
        waiting = predict(live, [SPAM])["request_id"]  # still answered
        assert httpx.get(f"{live.url}/ready").status_code == 200
        response = httpx.post(f"{live.url}/feedback", json={"request_id": request_id, "index": 0, "label": "ham"})
        assert response.status_code == 503, response.text
        assert "retry later" in response.json()["detail"] and stoppable_postgres.password not in response.text
        store = httpx.get(f"{live.url}/status").json()["prediction_store"]
        assert store["rows_waiting"] == 1 and store["last_error"]
    finally:
        stoppable_postgres.start()
    response = httpx.post(f"{live.url}/feedback", json={"request_id": waiting, "index": 0, "label": "spam"})
    assert response.status_code == 200, response.text


def stored_feedback_texts(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.select(feedback.c.label, feedback.c.text))]
    finally:
        engine.dispose()


def test_feedback_with_the_text_stores_it_when_the_service_does_not_store_texts(server):
    request_id = predict(server, [HAM])["request_id"]
    body = {"request_id": request_id, "index": 0, "label": "spam", "text": HAM}
    response = httpx.post(f"{server.url}/feedback", json=body)
    assert response.status_code == 200, response.text
    assert stored_feedback_texts(server.store_url) == [("spam", HAM)]


def test_feedback_whose_text_differs_from_the_stored_predicted_text_is_a_422(make_app, live_server_factory, store_url):
    app, _ = make_app(prediction_store_url=store_url, store_texts=True)
    server = live_server_factory(app)
    request_id = predict(server, [HAM])["request_id"]
    body = {"request_id": request_id, "index": 0, "label": "spam", "text": HAM + " (edited)"}
    response = httpx.post(f"{server.url}/feedback", json=body)
    assert response.status_code == 422, response.text
    assert "text does not match the text predicted" in response.json()["detail"]
    assert stored_feedback_texts(store_url) == []


@pytest.mark.parametrize("text", ["too long", "a\x00b", 7])
def test_feedback_text_has_the_limits_of_predict_texts(server, text):
    if text == "too long":
        text = "x" * (server.settings.max_text_chars + 1)
    request_id = predict(server, [HAM])["request_id"]
    body = {"request_id": request_id, "index": 0, "label": "spam", "text": text}
    assert httpx.post(f"{server.url}/feedback", json=body).status_code == 422
    assert stored_feedback(server.store_url) == []
