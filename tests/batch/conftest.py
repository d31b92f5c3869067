"""Fixtures of the batch tests: one local Spark session for the whole run (starting one takes 5-30 s), the served
model resolved as the batch job resolves it, and a request log written by the real app."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from spam_service.batch.scoring import ModelPlan, resolve_model
from spam_service.batch.session import SparkOptions, start_spark
from tests.support import REPO_ROOT
from tests.support.samples import HAM, SPAM

# Test-split messages (the service's own data), a few odd ones: empty, non-ASCII, HTML escapes, a newline.
ODD_TEXTS = ["", "Ünïcödé 😀 prize", "Fwd: &lt;#&gt; is your code", 'two\nlines, "quoted", comma']


@pytest.fixture(scope="session")
def spark() -> Iterator:
    """A local[2] Spark session for the batch tests: no UI, no progress bar, 2 shuffle partitions."""
    started = start_spark(
        SparkOptions(master="local[2]", progress_bar=False, ui=False, shuffle_partitions=2, app_name="batch-tests")
    )
    yield started.session
    started.session.stop()


@pytest.fixture(scope="session")
def served_plan(trained_model_dir: Path) -> ModelPlan:
    plan, _ = resolve_model(str(trained_model_dir))
    return plan


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    lines = (REPO_ROOT / "data/prepared/test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines[:60]] + [SPAM, HAM, *ODD_TEXTS]


@pytest.fixture
def request_log(make_app, tmp_path: Path) -> tuple[Path, list[dict]]:
    """A request log written by the app itself (three /predict requests and one /feedback), and the responses."""
    app, settings = make_app(request_log_dir=tmp_path / "logs")
    bodies = [[SPAM, HAM], ["URGENT! Claim your free prize now, txt WIN", "see you at lunch", "ok"], [HAM]]
    with TestClient(app) as client:
        responses = [client.post("/predict", json={"text": texts}).json() for texts in bodies]
        feedback = {"request_id": responses[0]["request_id"], "index": 1, "label": "spam"}
        assert client.post("/feedback", json=feedback).status_code == 200
    for texts, response in zip(bodies, responses, strict=True):
        response["texts"] = texts
    return settings.request_log_dir, responses
