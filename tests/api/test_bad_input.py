"""Every kind of bad /predict input gets a 4xx whose `detail` says what to fix; none gets a 500."""

import httpx
import pytest

from spam_service.api import create_app
from spam_service.settings import Settings
from tests.support.live_server import start_live_server
from tests.support.services import services_around

LIMITS = {"max_texts_per_request": 3, "max_text_chars": 50}


@pytest.fixture(scope="module")
def server(trained_classifier, tmp_path_factory):
    settings = Settings(request_log_dir=tmp_path_factory.mktemp("logs"), **LIMITS)
    app = create_app(services_around(trained_classifier, settings))
    live = start_live_server(app)
    yield live
    live.stop()


JSON = {"content-type": "application/json"}

CASES = [
    # (id, raw body, headers, status, words the detail must contain)
    ("broken-json", b'{"text": ["unterminated', JSON, 400, ["not valid JSON"]),
    ("empty-body", b"", JSON, 422, ["body is empty"]),
    ("body-is-array", b'["hello"]', JSON, 422, ["must be a JSON object", "not an array"]),
    ("body-is-string", b'"hello"', JSON, 422, ["must be a JSON object", "not a string"]),
    ("body-is-null", b"null", JSON, 422, ["must be a JSON object"]),
    ("missing-text-key", b"{}", JSON, 422, ["missing key 'text'"]),
    ("unknown-key", b'{"text": ["hi"], "lang": "en"}', JSON, 422, ["unknown key 'lang'"]),
    ("misspelled-key", b'{"texts": ["hi"]}', JSON, 422, ["missing key 'text'", "unknown key 'texts'"]),
    ("text-is-string", b'{"text": "hello"}', JSON, 422, ["'text' must be an array of strings", "not a string"]),
    ("text-is-object", b'{"text": {"a": 1}}', JSON, 422, ["'text' must be an array of strings", "not an object"]),
    ("number-item", b'{"text": ["ok", 42]}', JSON, 422, ["text[1] must be a string, not a number"]),
    ("null-item", b'{"text": [null]}', JSON, 422, ["text[0] must be a string, not null"]),
    ("nested-list-item", b'{"text": [["a"]]}', JSON, 422, ["text[0] must be a string, not an array"]),
    ("empty-list", b'{"text": []}', JSON, 422, ["'text' is empty"]),
    ("too-many-texts", b'{"text": ["a", "b", "c", "d"]}', JSON, 422, ["4 messages", "MAX_TEXTS_PER_REQUEST"]),
    ("text-too-long", b'{"text": ["ok", "' + b"x" * 51 + b'"]}', JSON, 422, ["text[1] has 51 char", "MAX_TEXT_CHARS"]),
    ("lone-surrogate", b'{"text": ["ok", "\\ud800"]}', JSON, 422, ["text[1] is not valid Unicode", "surrogate"]),
    ("lone-low-surrogate", b'{"text": ["\\udfff x"]}', JSON, 422, ["text[0] is not valid Unicode"]),
    ("nul-character", b'{"text": ["a\\u0000b"]}', JSON, 422, ["text[0] contains a NUL character"]),
    ("deep-nesting", b'{"text": ' + b"[" * 1400 + b"]" * 1400 + b"}", JSON, 400, ["not valid JSON"]),
    ("plain-text-body", b'{"text": ["hi"]}', {"content-type": "text/plain"}, 415, ["application/json"]),
    ("form-body", b"text=hi", {"content-type": "application/x-www-form-urlencoded"}, 415, ["application/json"]),
]  # fmt: skip


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(("body", "headers", "status", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_a_4xx_that_says_what_to_fix(server, method, body, headers, status, words):
    response = httpx.request(method, f"{server.url}/predict", content=body, headers=headers)
    assert response.status_code == status, response.text
    payload = response.json()
    for word in words:
        assert word in payload["detail"], payload["detail"]
    assert payload["request_id"] == response.headers["x-request-id"]


def test_body_over_the_size_limit_is_refused_before_it_is_read(server):
    body = b'{"text": ["' + b"x" * 2_000_000 + b'"]}'
    response = httpx.post(f"{server.url}/predict", content=body, headers=JSON)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(server):
    sent = 0

    def chunks():  # no Content-Length: httpx sends Transfer-Encoding: chunked
        nonlocal sent
        yield b'{"text": ["'
        for _ in range(200):  # 200 MiB if the server read it all
            sent += 1 << 20
            yield b"x" * (1 << 20)
        yield b'"]}'

    try:
        response = httpx.post(f"{server.url}/predict", content=chunks(), headers=JSON, timeout=30)
    except httpx.TransportError:
        pytest.fail("the server should answer 413, not drop the connection unanswered")
    assert response.status_code == 413, response.text
    assert "limit" in response.json()["detail"]
    assert sent < 50 << 20  # it stopped reading long before the end


def test_many_bad_items_get_a_short_list_of_problems_and_a_count(server):
    response = httpx.post(f"{server.url}/predict", json={"text": [1, 2, 3]})
    assert response.status_code == 422
    unknown_keys = {f"key{n}": n for n in range(10)}
    many = httpx.post(f"{server.url}/feedback", json={"request_id": 1, "index": "x", "label": 3, **unknown_keys})
    assert many.status_code == 422
    body = many.json()
    assert len(body["errors"]) == 10 and "and 8 more problems" in body["detail"], body
    # Past ten unknown keys, one error names the first ten and counts them all.
    flood = httpx.post(f"{server.url}/feedback", json={f"key{n}": n for n in range(150)})
    assert flood.status_code == 422
    assert flood.json()["detail"].startswith("150 unknown keys ('key0', 'key1',")
    assert len(flood.json()["errors"]) == 1
    assert len(many.content) < 4096 and len(flood.content) < 4096


def test_unknown_route_and_wrong_method_answer_json(server):
    missing = httpx.get(f"{server.url}/predictions")
    assert missing.status_code == 404 and missing.json()["detail"] == "Not Found"
    wrong = httpx.put(f"{server.url}/predict", json={"text": ["hi"]})
    assert wrong.status_code == 405 and "PUT is not allowed" in wrong.json()["detail"]
    # Both methods /predict takes, though each has a route of its own.
    assert wrong.headers["allow"] == "GET, POST"


def test_service_keeps_answering_after_bad_requests(server):
    for body in (b"{", b"[]", b'{"text": [1]}'):
        httpx.post(f"{server.url}/predict", content=body, headers=JSON)
    response = httpx.post(f"{server.url}/predict", json={"text": ["see you soon"]})
    assert response.status_code == 200
