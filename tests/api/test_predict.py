"""/predict, /health, /ready and /docs against a real uvicorn serving the trained model."""

import asyncio
import json

import httpx
import pytest

from spam_service.pipeline.dataset import read_jsonl
from tests.support import REPO_ROOT
from tests.support.samples import HAM, SPAM, read_request_log


@pytest.fixture
def server(make_app, live_server_factory):
    app, settings = make_app()
    live = live_server_factory(app)
    live.settings = settings
    return live


def test_post_predict_returns_one_prediction_per_text_in_input_order(server):
    response = httpx.post(f"{server.url}/predict", json={"text": [SPAM, HAM, SPAM]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["label"] for p in body["predictions"]] == ["spam", "ham", "spam"]
    for prediction in body["predictions"]:
        assert 0.0 <= prediction["spam_probability"] <= 1.0
        assert prediction["truncated"] is False
    assert body["predictions"][0]["spam_probability"] > 0.5 > body["predictions"][1]["spam_probability"]


def test_get_with_json_body_answers_like_post(server):
    texts = {"text": [HAM, SPAM]}
    got = httpx.request("GET", f"{server.url}/predict", json=texts).json()
    posted = httpx.post(f"{server.url}/predict", json=texts).json()
    assert got["predictions"] == posted["predictions"]
    assert got["request_id"] != posted["request_id"]


def test_sample_query_file_is_answered_verbatim(server):
    body = (REPO_ROOT / "sample_query.json").read_bytes()
    response = httpx.request("GET", f"{server.url}/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == len(json.loads(body)["text"])


def test_response_names_the_model_and_echoes_the_request_id_header(server, trained_classifier):
    response = httpx.post(f"{server.url}/predict", json={"text": [HAM]})
    body = response.json()
    # Served from a directory: no registry version.
    assert body["model"] == {
        "name": trained_classifier.name,
        "version": trained_classifier.version,
        "registry_version": None,
    }
    assert response.headers["x-request-id"] == body["request_id"]
    assert len(body["request_id"]) == 32


def test_text_over_the_token_limit_is_truncated_and_flagged(make_app, live_server_factory):
    app, _ = make_app(max_tokens=16)
    live = live_server_factory(app)
    long_text = " ".join(["free prize call now"] * 20)
    response = httpx.post(f"{live.url}/predict", json={"text": [long_text, "ok"]})
    first, second = response.json()["predictions"]
    assert first["truncated"] is True and first["tokens"] == 16
    assert second["truncated"] is False and second["tokens"] < 16


CLASSIFIED = ["", "   ", "😀🎉🔥", "Привет, как дела?", "你好, 明天见", "e\u0301\t\n", "\x01\x7f\u200b\ue000"]
NON_CHARACTERS = ["\ufffe\uffff", "\ufdd0", "\U0010ffff", "\U0001fffe"]


@pytest.mark.parametrize("text", CLASSIFIED + NON_CHARACTERS)
def test_unicode_emoji_control_characters_non_characters_and_empty_strings_are_classified(server, text):
    response = httpx.post(f"{server.url}/predict", json={"text": [text]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["label"] in {"spam", "ham"}


def test_every_answered_request_is_in_the_request_log_after_shutdown(server):
    async def fire(count: int) -> list[str]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            responses = await asyncio.gather(
                *(client.post("/predict", json={"text": [f"message {i}", SPAM]}) for i in range(count))
            )
        assert all(r.status_code == 200 for r in responses)
        return [r.json()["request_id"] for r in responses]

    request_ids = asyncio.run(fire(40))
    server.stop()
    records = read_request_log(server.settings.request_log_dir)
    assert sorted(r["request_id"] for r in records) == sorted(request_ids)
    record = records[0]
    assert set(record) >= {"timestamp", "request_id", "texts", "predictions", "model", "latency_ms"}
    assert record["texts"][1] == SPAM and record["predictions"][1]["label"] == "spam"
    assert record["latency_ms"] > 0


def test_concurrent_requests_share_forward_passes_and_each_gets_its_own_answer(make_app, live_server_factory):
    app, _ = make_app(batch_wait_ms=50, inference_workers=2)
    live = live_server_factory(app)
    bodies = [[SPAM, f"message {i}"] if i % 2 else [HAM] for i in range(30)]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            return await asyncio.gather(*(client.post("/predict", json={"text": texts}) for texts in bodies))

    responses = asyncio.run(fire())
    for texts, response in zip(bodies, responses, strict=True):
        assert response.status_code == 200, response.text
        labels = [p["label"] for p in response.json()["predictions"]]
        assert len(labels) == len(texts) and labels[0] == ("spam" if texts[0] == SPAM else "ham")
    inference = httpx.get(f"{live.url}/status").json()["inference"]
    assert (inference["requests"], inference["texts"]) == (30, 45)
    assert inference["workers"] == 2 and inference["batches"] < 30  # coalesced
    assert inference["largest_batch"] <= inference["max_batch_texts"]


def test_a_text_gets_the_same_probability_alone_and_among_any_others(make_app, live_server_factory):
    """The served engine's labels do not depend on what else is in flight: the same text answered alone, inside a
    request of others and among concurrent requests that the micro-batcher coalesces, to 1e-6."""
    app, _ = make_app(batch_wait_ms=50, inference_workers=2)
    live = live_server_factory(app)
    texts = [e.text for e in read_jsonl(REPO_ROOT / "data" / "prepared" / "validation.jsonl")][:48]
    probe = texts[7]

    def probability(body: list[str], index: int) -> float:
        response = httpx.post(f"{live.url}/predict", json={"text": body})
        assert response.status_code == 200, response.text
        return response.json()["predictions"][index]["spam_probability"]

    async def concurrently() -> list[float]:
        async with httpx.AsyncClient(base_url=live.url, timeout=60) as client:
            bodies = [[text] for text in texts]
            responses = await asyncio.gather(*(client.post("/predict", json={"text": b}) for b in bodies))
        return [r.json()["predictions"][0]["spam_probability"] for r in responses]

    alone = probability([probe], 0)
    among_others = [probability(texts[:16], 7), probability([*texts[20:40], probe], 20), asyncio.run(concurrently())[7]]
    assert max(abs(p - alone) for p in among_others) <= 1e-6, (alone, among_others)


def test_health_ready_and_docs(server):
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}
    ready = httpx.get(f"{server.url}/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready" and ready.json()["request_log"]["kind"] == "file"
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/predict"])


def test_unwritable_request_log_refuses_predictions_with_503_and_makes_ready_fail(
    make_app, live_server_factory, tmp_path
):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the log directory should be")
    app, _ = make_app(request_log_dir=blocker / "logs", prediction_store_url=f"sqlite:///{tmp_path / 'p.sqlite3'}")
    live = live_server_factory(app)
    refused = httpx.post(f"{live.url}/predict", json={"text": [HAM]})
    # No answer without its line stored: the client retries, nothing it was told happened is lost.
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1, refused.text
    assert "request log" in refused.json()["detail"]
    ready = httpx.get(f"{live.url}/ready")
    assert ready.status_code == 503
    state = ready.json()["request_log"]
    assert state["ready"] is False and "not-a-directory" in state["last_error"]
    assert httpx.get(f"{live.url}/statistics").json()["total"]["predictions"] == 0  # no row of a refused request
