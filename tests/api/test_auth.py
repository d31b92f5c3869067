"""Who may call what: every route x every kind of caller -> the expected status, on a live app whose key store holds
one key per role, an expired one and a revoked one."""

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from spam_service.api import create_app
from spam_service.auth import ApiKey, JsonFileKeyStore
from spam_service.auth.keys import key_digest, new_key
from spam_service.settings import Settings
from tests.support.live_server import start_live_server
from tests.support.samples import HAM
from tests.support.services import services_around

NOW = datetime.now(UTC)
KEYS = {role: new_key() for role in ("predict", "feedback", "admin", "expired", "revoked", "other-app")}


@pytest.fixture(scope="module")
def server(trained_classifier, tmp_path_factory):
    directory = tmp_path_factory.mktemp("auth")
    store = JsonFileKeyStore(directory / "api-keys.json")
    store.save(
        [
            ApiKey("app", "predict", key_digest(KEYS["predict"]), NOW),
            ApiKey("other-app", "predict", key_digest(KEYS["other-app"]), NOW),
            ApiKey("reviewer", "feedback", key_digest(KEYS["feedback"]), NOW),
            ApiKey("ops", "admin", key_digest(KEYS["admin"]), NOW),
            ApiKey("old", "predict", key_digest(KEYS["expired"]), NOW - timedelta(days=30), NOW - timedelta(days=1)),
        ]
    )  # "revoked": a key that was in the store and is no longer
    settings = Settings(
        request_log_dir=directory / "logs",
        prediction_store_url=f"sqlite:///{directory / 'p.sqlite3'}",
        api_keys_file=store.path,
    )
    live = start_live_server(create_app(services_around(trained_classifier, settings)))
    yield live, store
    live.stop()


def headers(who: str) -> dict[str, str]:
    if who == "nobody":
        return {}
    if who == "unknown":
        return {"authorization": f"Bearer {new_key()}"}
    if who == "feedback":  # the other header works too
        return {"x-api-key": KEYS[who]}
    return {"authorization": f"Bearer {KEYS[who]}"}


CALLERS = ["nobody", "unknown", "expired", "revoked", "predict", "feedback", "admin"]
DENIED = {"nobody": 401, "unknown": 401, "expired": 401, "revoked": 401}
EXPECTED = {
    # route: status per caller not in DENIED (DENIED callers get 401 wherever a key is needed)
    ("GET", "/health"): {"*": 200},
    ("GET", "/ready"): {"*": 200},
    ("GET", "/"): {"*": 200},
    ("GET", "/openapi.json"): {"*": 200},
    ("POST", "/predict"): {"predict": 200, "feedback": 403, "admin": 200},
    ("GET", "/predict"): {"predict": 200, "feedback": 403, "admin": 200},
    ("POST", "/feedback"): {"predict": 200, "feedback": 200, "admin": 200},
    ("GET", "/statistics"): {"predict": 403, "feedback": 403, "admin": 200},
    ("GET", "/status"): {"predict": 403, "feedback": 403, "admin": 200},
    ("GET", "/metrics"): {"predict": 403, "feedback": 403, "admin": 200},
    # An admin passes and is told there is no model at that path (a swap to a real one: tests/api/test_model_swap.py).
    ("POST", "/admin/model"): {"predict": 403, "feedback": 403, "admin": 404},
}


def expected_status(route: tuple[str, str], who: str) -> int:
    table = EXPECTED[route]
    if "*" in table:
        return table["*"]
    return DENIED.get(who) or table[who]


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("route", list(EXPECTED), ids=[f"{m} {p}" for m, p in EXPECTED])
def test_every_route_for_every_caller(server, route, who):
    live, _ = server
    method, path = route
    body = None
    if path == "/predict":
        body = {"text": [HAM]}
    elif path == "/admin/model":
        body = {"uri": "/nonexistent/model"}
    elif path == "/feedback":
        made = httpx.post(f"{live.url}/predict", json={"text": [HAM]}, headers=headers("predict"))
        body = {"request_id": made.json()["request_id"], "index": 0, "label": "ham"}
    response = httpx.request(method, f"{live.url}{path}", json=body, headers=headers(who))
    assert response.status_code == expected_status(route, who), response.text
    if response.status_code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "API key" in response.json()["detail"]
    if response.status_code == 403:
        assert "role" in response.json()["detail"]
    for key in KEYS.values():
        assert key not in response.text  # a key never comes back, not even the caller's


def test_a_predict_key_gives_feedback_on_its_own_predictions_only_and_reviewers_on_any(server):
    live, _ = server
    made = httpx.post(f"{live.url}/predict", json={"text": [HAM]}, headers=headers("predict")).json()
    feedback = {"request_id": made["request_id"], "index": 0, "label": "spam"}
    unknown = {"request_id": "0" * 32, "index": 0, "label": "spam"}
    other = httpx.post(f"{live.url}/feedback", json=feedback, headers=headers("other-app"))
    never_made = httpx.post(f"{live.url}/feedback", json=unknown, headers=headers("other-app"))
    assert other.status_code == never_made.status_code == 404  # ids cannot be probed: the same answer
    assert other.json()["detail"].replace(made["request_id"], "X") == never_made.json()["detail"].replace("0" * 32, "X")
    assert httpx.post(f"{live.url}/feedback", json=feedback, headers=headers("feedback")).status_code == 200
    by_reviewer = httpx.get(f"{live.url}/statistics?reporter=reviewer", headers=headers("admin")).json()
    by_app = httpx.get(f"{live.url}/statistics?reporter=other-app", headers=headers("admin")).json()
    assert by_reviewer["total"]["with_feedback"] >= 1 and by_app["total"]["with_feedback"] == 0


def test_an_expired_key_is_told_so_by_name(server):
    live, _ = server
    response = httpx.get(f"{live.url}/status", headers=headers("expired"))
    assert response.status_code == 401 and "'old' expired on" in response.json()["detail"]


def test_keys_created_and_revoked_while_running_take_effect_without_a_restart(server):
    live, store = server
    fresh = new_key()
    store.save([*store.load(), ApiKey("fresh", "admin", key_digest(fresh), NOW)])
    deadline = time.monotonic() + 10
    while httpx.get(f"{live.url}/status", headers={"authorization": f"Bearer {fresh}"}).status_code != 200:
        assert time.monotonic() < deadline, "a created key never worked"
        time.sleep(0.2)
    store.save([key for key in store.load() if key.name != "fresh"])
    while httpx.get(f"{live.url}/status", headers={"authorization": f"Bearer {fresh}"}).status_code != 401:
        assert time.monotonic() < deadline + 10, "a revoked key kept working"
        time.sleep(0.2)


def test_past_its_rate_limit_a_key_gets_429_with_retry_after_and_recovers(trained_classifier, tmp_path):
    store = JsonFileKeyStore(tmp_path / "api-keys.json")
    store.save([ApiKey("ops", "admin", key_digest(KEYS["admin"]), NOW)])
    settings = Settings(
        request_log_dir=tmp_path / "logs",
        prediction_store_url=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        api_keys_file=store.path,
        rate_limit_admin=30,  # one every 2 s, a burst of 30
    )
    live = start_live_server(create_app(services_around(trained_classifier, settings)))
    try:
        auth = headers("admin")
        # The burst of 30 passes, then a refusal comes (a token refills every 2 s: a slow machine may squeeze one
        # or two more in first, never a whole minute's worth).
        statuses, refused = [], None
        for _ in range(40):
            response = httpx.get(f"{live.url}/status", headers=auth)
            statuses.append(response.status_code)
            if response.status_code == 429:
                refused = response
                break
        assert refused is not None and statuses.count(200) >= 30, statuses
        assert int(refused.headers["retry-after"]) >= 1 and "rate limit" in refused.json()["detail"]
        assert refused.headers["ratelimit-policy"].startswith('"admin";q=30;w=60')
        assert "ratelimit" in refused.headers
        time.sleep(int(refused.headers["retry-after"]) + 0.1)
        recovered = httpx.get(f"{live.url}/metrics", headers=auth)
        assert recovered.status_code == 200
        assert 'spam_service_rate_limited_total{key="ops",kind="admin"}' in recovered.text
    finally:
        live.stop()
