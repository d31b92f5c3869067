"""Shadow scoring in a live service (uvicorn, the trained model served, a copy of it with another version as the
challenger): sampled /predict texts are scored after the answers, stored beside the served model's rows, compared
in /statistics (and for one reporter's feedback only), and shown in /status and /metrics."""

import httpx
import pytest

from tests.support.model_copies import model_copy
from tests.support.prediction_store import wait_until
from tests.support.samples import HAM, SPAM

CHALLENGER_VERSION = "challenger-1"


@pytest.fixture
def live(make_app, live_server_factory, trained_model_dir, tmp_path):
    challenger = model_copy(trained_model_dir, tmp_path / "challenger", version=CHALLENGER_VERSION)
    app, _ = make_app(
        prediction_store_url=f"sqlite:///{tmp_path / 'predictions.sqlite3'}",
        shadow_model_uri=str(challenger),
        shadow_sample_rate=1.0,
    )
    return live_server_factory(app)


def predict(live, texts: list[str]) -> dict:
    response = httpx.post(f"{live.url}/predict", json={"text": texts})
    assert response.status_code == 200, response.text
    return response.json()


def shadow_status(live) -> dict:
    return httpx.get(f"{live.url}/status").json()["shadow"]


def test_a_challenger_scores_live_traffic_and_statistics_compare_it_with_the_served_model_on_the_same_texts(
    live, trained_classifier
):
    first = predict(live, [SPAM, HAM, HAM])
    predict(live, [SPAM])
    assert first["model"]["version"] == trained_classifier.version != CHALLENGER_VERSION  # the served model answers
    wait_until(lambda: shadow_status(live)["scored"] == 4)
    for index, label in ((0, "spam"), (1, "ham"), (2, "spam")):  # the last one: both models miss it
        response = httpx.post(
            f"{live.url}/feedback", json={"request_id": first["request_id"], "index": index, "label": label}
        )
        assert response.status_code == 200, response.text

    body = httpx.get(f"{live.url}/statistics").json()
    assert body["total"]["predictions"] == 4  # shadow rows are not predictions anyone was answered with
    [shadow] = body["shadow"]
    assert shadow["model"] == {"name": trained_classifier.name, "version": CHALLENGER_VERSION, "registry_version": None}
    # The same weights: the two agree on every text, and their figures on the same texts are the same.
    assert (shadow["agreeing"], shadow["agreement"]) == (4, 1.0)
    expected = {
        "predictions": 4,
        "spam_predicted": 2,
        "spam_share": 0.5,
        "with_feedback": 3,
        "correct": 2,
        "correctness_rate": pytest.approx(2 / 3, abs=1e-5),
        "spam_precision": 1.0,
        "spam_recall": 0.5,
    }
    assert shadow["challenger"] == expected and shadow["served"] == expected
    assert shadow["first_prediction"] <= shadow["last_prediction"]

    status = shadow_status(live)
    assert status["model"]["version"] == CHALLENGER_VERSION and status["sample_rate"] == 1.0
    assert (status["offered"], status["sampled"], status["scored"], status["dropped"]) == (4, 4, 4, 0)
    assert status["niceness"] == 19
    threads = {t["name"]: t for t in httpx.get(f"{live.url}/status").json()["threads"]}
    assert threads["shadow-scorer"]["alive"]
    metrics = httpx.get(f"{live.url}/metrics").text
    assert f'spam_service_shadow_texts_total{{model_version="{CHALLENGER_VERSION}",outcome="scored"}} 4.0' in metrics


def test_the_comparison_for_a_reporter_counts_only_that_reporters_feedback(live):
    request_id = predict(live, [SPAM, HAM])["request_id"]
    wait_until(lambda: shadow_status(live)["scored"] == 2)
    response = httpx.post(f"{live.url}/feedback", json={"request_id": request_id, "index": 1, "label": "spam"})
    assert response.status_code == 200, response.text  # authentication off: reported by nobody in particular

    [everyone] = httpx.get(f"{live.url}/statistics").json()["shadow"]
    [someone] = httpx.get(f"{live.url}/statistics", params={"reporter": "someone"}).json()["shadow"]
    assert (everyone["served"]["with_feedback"], everyone["challenger"]["spam_recall"]) == (1, 0.0)
    assert (someone["served"]["with_feedback"], someone["challenger"]["with_feedback"]) == (0, 0)
    assert someone["challenger"]["predictions"] == everyone["challenger"]["predictions"] == 2


def test_without_a_challenger_status_has_no_shadow_and_statistics_an_empty_comparison(
    make_app, live_server_factory, tmp_path
):
    app, _ = make_app(prediction_store_url=f"sqlite:///{tmp_path / 'predictions.sqlite3'}")
    live = live_server_factory(app)
    predict(live, [HAM])
    assert httpx.get(f"{live.url}/status").json()["shadow"] is None
    assert httpx.get(f"{live.url}/statistics").json()["shadow"] == []
    assert "spam_service_shadow_texts" not in httpx.get(f"{live.url}/metrics").text
