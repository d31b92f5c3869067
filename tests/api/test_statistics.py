"""GET /statistics against a real uvicorn, with the prediction store on SQLite and on a real PostgreSQL server."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.samples import HAM, SPAM


@pytest.fixture
def server(make_app, live_server_factory, store_url):
    app, _ = make_app(prediction_store_url=store_url, prediction_store_flush_interval=30)
    return live_server_factory(app)


def predict(server, texts: list[str]) -> str:
    response = httpx.post(f"{server.url}/predict", json={"text": texts})
    assert response.status_code == 200, response.text
    return response.json()["request_id"]


def give_feedback(server, request_id: str, index: int, label: str) -> None:
    response = httpx.post(f"{server.url}/feedback", json={"request_id": request_id, "index": index, "label": label})
    assert response.status_code == 200, response.text


def statistics(server, **params) -> dict:
    response = httpx.get(f"{server.url}/statistics", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_empty_store_has_zero_counts_and_undefined_rates(server):
    body = statistics(server)
    assert body["by_model"] == [] and (body["since"], body["until"]) == (None, None)
    assert body["total"] == {
        "predictions": 0,
        "spam_predicted": 0,
        "spam_share": None,
        "with_feedback": 0,
        "correct": 0,
        "correctness_rate": None,
        "spam_precision": None,
        "spam_recall": None,
    }


def test_counts_agreement_precision_and_recall_per_model_version(server, trained_classifier):
    first = predict(server, [SPAM, SPAM, HAM, HAM])  # predicted spam, spam, ham, ham
    second = predict(server, [HAM])
    give_feedback(server, first, 0, "spam")  # true positive
    give_feedback(server, first, 1, "ham")  # false positive
    give_feedback(server, first, 2, "spam")  # false negative
    give_feedback(server, first, 3, "ham")  # true negative
    give_feedback(server, second, 0, "ham")  # true negative
    body = statistics(server)  # no wait: rows still queued are written first
    expected = {
        "predictions": 5,
        "spam_predicted": 2,
        "spam_share": 0.4,
        "with_feedback": 5,
        "correct": 3,
        "correctness_rate": 0.6,
        "spam_precision": 0.5,
        "spam_recall": 0.5,
    }
    assert body["total"] == expected
    [entry] = body["by_model"]
    assert entry["model"] == {
        "name": trained_classifier.name,
        "version": trained_classifier.version,
        "registry_version": None,  # served from a directory
    }
    assert {key: entry[key] for key in expected} == expected
    assert entry["first_prediction"] <= entry["last_prediction"] and entry["last_prediction"].endswith("Z")


def test_since_and_until_filter_on_prediction_time(server):
    predict(server, [SPAM, HAM])
    now = datetime.now(UTC)
    hour_ago, in_an_hour = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()
    assert statistics(server, since=hour_ago, until=in_an_hour)["total"]["predictions"] == 2
    assert statistics(server, since=in_an_hour)["total"]["predictions"] == 0
    assert statistics(server, until=hour_ago)["total"]["predictions"] == 0
    # Naive times are UTC; a date alone is its midnight.
    naive = (now - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    assert statistics(server, since=naive)["total"]["predictions"] == 2
    body = statistics(server, since=now.date().isoformat(), until=(now + timedelta(days=1)).date().isoformat())
    assert body["total"]["predictions"] == 2 and body["since"] == f"{now.date().isoformat()}T00:00:00.000Z"
    # An offset is honoured: at +01:00, UTC now + 30 min is UTC now - 30 min. An unencoded "+" (a space once
    # decoded) is read as meant.
    plus_one = (now.replace(tzinfo=None) + timedelta(minutes=30)).isoformat(timespec="seconds") + "+01:00"
    assert statistics(server, until=plus_one)["total"]["predictions"] == 0
    response = httpx.get(f"{server.url}/statistics?since={plus_one}")
    assert response.status_code == 200 and response.json()["total"]["predictions"] == 2, response.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("since=yesterday", ["since='yesterday' is not an ISO 8601 date-time", "2026-11-23T00:00:00Z"]),
        ("until=2026-13-01", ["until='2026-13-01' is not an ISO 8601"]),
    ],
)
def test_bad_times_are_422_saying_what_to_send(make_app, live_server_factory, tmp_path, query, words):
    app, _ = make_app(prediction_store_url=f"sqlite:///{tmp_path / 'predictions.sqlite3'}")
    live = live_server_factory(app)
    response = httpx.get(f"{live.url}/statistics?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    for word in words:
        assert word in body["detail"], body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
