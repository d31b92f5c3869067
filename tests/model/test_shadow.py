"""The shadow scorer with a stand-in challenger (a class with `predict`) and a real prediction store on SQLite:
sampling, the bound on queued texts (dropped and counted, `offer` never waits), the rows it stores, the scoring
thread's lowered priority, a failing challenger, and shutdown."""

import json
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from spam_service.errors import ModelLoadError, StartupError
from spam_service.model.shadow import ShadowScorer, build_shadow_scorer
from spam_service.prediction_store import PredictionStore
from spam_service.prediction_store.schema import shadow_predictions
from spam_service.settings import Settings
from tests.support.model_copies import model_copy
from tests.support.prediction_store import MODEL, rows_in, wait_until


@dataclass(frozen=True)
class Scored:
    label: str
    spam_probability: float


class KeywordChallenger:
    """Spam when a text says WIN; `gate` (when given) holds every call until it is set, like a slow model."""

    name = "challenger"
    version = "v2"

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.calls: list[list[str]] = []
        self.niceness: list[int] = []

    def predict(self, texts: Sequence[str]) -> list[Scored]:
        self.niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        self.calls.append(list(texts))
        if self.gate is not None:
            self.gate.wait(10)
        return [Scored("spam", 0.9) if "WIN" in text else Scored("ham", 0.1) for text in texts]


class FailingChallenger(KeywordChallenger):
    def predict(self, texts: Sequence[str]) -> list[Scored]:
        raise RuntimeError("the challenger broke")


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'predictions.sqlite3'}"


@pytest.fixture
def store(store_url) -> Iterator[PredictionStore]:
    store = PredictionStore(store_url, flush_interval=0.05)
    store.start()
    yield store
    store.close(timeout=2)


@pytest.fixture
def scorers() -> Iterator[list[ShadowScorer]]:
    started: list[ShadowScorer] = []
    yield started
    for scorer in started:
        scorer.stop()


def predicted(store: PredictionStore, request_id: str, texts: list[str]) -> list[str]:
    """What /predict does before offering: the served model's rows are queued first."""
    store.add(request_id, predictions=[("ham", 0.2)] * len(texts), **MODEL)
    return texts


def test_sampled_requests_are_scored_off_the_caller_at_low_priority_and_stored_beside_the_served_rows(
    store, store_url, scorers
):
    challenger = KeywordChallenger()
    scorer = ShadowScorer(challenger, store, registry_version="4", sample_rate=1.0, max_queued_texts=64)
    scorer.start()
    scorers.append(scorer)
    scorer.offer("r1", predicted(store, "r1", ["WIN a prize", "see you at 7"]))
    scorer.offer("r2", predicted(store, "r2", ["lunch?"]))
    wait_until(lambda: scorer.status().scored == 3)
    assert store.flush()
    stored = rows_in(store_url, shadow_predictions)
    assert [(r.request_id, r.text_index, r.label, r.model_version, r.registry_version) for r in stored] == [
        ("r1", 0, "spam", "v2", "4"),
        ("r1", 1, "ham", "v2", "4"),
        ("r2", 0, "ham", "v2", "4"),
    ]
    status = scorer.status()
    assert (status.offered, status.sampled, status.scored, status.dropped, status.queued_texts) == (3, 3, 3, 0, 0)
    assert set(challenger.niceness) == {19} and status.niceness == 19  # the scoring thread's own priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19  # the caller's is untouched


def test_requests_are_sampled_at_the_rate(store, scorers):
    draws = iter([0.05, 0.5, 0.29, 0.3, 0.99])  # rate 0.3: the first and the third are picked
    scorer = ShadowScorer(KeywordChallenger(), store, sample_rate=0.3, sample=lambda: next(draws))
    scorer.start()
    scorers.append(scorer)
    for n in range(5):
        scorer.offer(f"r{n}", predicted(store, f"r{n}", ["hi", "there"]))
    wait_until(lambda: scorer.status().scored == 4)
    status = scorer.status()
    assert (status.offered, status.sampled, status.scored, status.dropped) == (10, 4, 4, 0)
    off = ShadowScorer(KeywordChallenger(), store, sample_rate=0.0)
    off.offer("r0", ["hi"])
    assert (off.status().offered, off.status().sampled) == (1, 0)


def test_past_the_bound_sampled_texts_are_dropped_and_counted_and_offer_never_waits(store, scorers):
    gate = threading.Event()  # the challenger is stuck on the first request until the gate opens
    challenger = KeywordChallenger(gate)
    scorer = ShadowScorer(challenger, store, sample_rate=1.0, max_queued_texts=10, batch_texts=4)
    scorer.start()
    scorers.append(scorer)
    scorer.offer("r0", predicted(store, "r0", ["a", "b", "c"]))
    wait_until(lambda: len(challenger.calls) == 1)  # r0 is being scored: it still counts against the bound
    slowest = 0.0
    for n in range(1, 201):
        started = time.perf_counter()
        scorer.offer(f"r{n}", predicted(store, f"r{n}", ["d", "e", "f"]))
        slowest = max(slowest, time.perf_counter() - started)
    status = scorer.status()
    assert status.queued_texts == 9  # r0 and two more requests: a third would pass 10
    assert (status.sampled, status.dropped) == (603, 600 - 6)
    assert slowest < 0.05  # never waited for the stuck challenger
    gate.set()
    wait_until(lambda: scorer.status().scored == 9)
    assert challenger.calls[1] == ["d", "e", "f"]  # r1 alone: r2 would pass batch_texts=4
    assert scorer.status().queued_texts == 0


def test_a_failing_challenger_drops_its_batch_counted_and_the_thread_survives(store, scorers):
    scorer = ShadowScorer(FailingChallenger(), store, sample_rate=1.0)
    scorer.start()
    scorers.append(scorer)
    scorer.offer("r1", predicted(store, "r1", ["hi"]))
    wait_until(lambda: scorer.status().dropped == 1)
    [thread] = scorer.threads()
    wait_until(lambda: thread.status().crashes == 1)
    assert thread.status().last_crash == "RuntimeError: the challenger broke" and thread.alive
    assert scorer.status().queued_texts == 0


def test_rows_the_store_has_no_room_for_are_counted_dropped_not_scored(store_url, scorers):
    full = PredictionStore(store_url, flush_interval=60, max_pending=4)  # room for 2 shadow rows, never written
    scorer = ShadowScorer(KeywordChallenger(), full, sample_rate=1.0, batch_texts=1)
    scorer.start()
    scorers.append(scorer)
    scorer.offer("r1", ["hi", "there"])
    scorer.offer("r2", ["again"])
    wait_until(lambda: scorer.status().queued_texts == 0)
    status = scorer.status()
    assert (status.scored, status.dropped) == (2, 1)


def test_stop_hands_the_batch_being_scored_to_the_store_and_drops_what_is_queued(store, store_url):
    gate = threading.Event()
    challenger = KeywordChallenger(gate)
    scorer = ShadowScorer(challenger, store, sample_rate=1.0, batch_texts=1)
    scorer.start()
    scorer.offer("r1", predicted(store, "r1", ["WIN"]))
    wait_until(lambda: len(challenger.calls) == 1)
    scorer.offer("r2", predicted(store, "r2", ["hi"]))
    scorer.offer("r3", predicted(store, "r3", ["hi"]))
    stopper = threading.Thread(target=scorer.stop)
    stopper.start()
    time.sleep(0.1)
    gate.set()
    stopper.join(10)
    status = scorer.status()
    assert (status.scored, status.dropped, status.queued_texts) == (1, 2, 0)
    assert not scorer.threads()[0].alive
    assert store.flush()
    assert [r.request_id for r in rows_in(store_url, shadow_predictions)] == ["r1"]
    scorer.offer("r4", ["late"])  # after stop: counted, not queued
    assert scorer.status().dropped == 3


def test_the_sample_rate_and_bound_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1"):
        ShadowScorer(KeywordChallenger(), None, sample_rate=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must be positive"):
        ShadowScorer(KeywordChallenger(), None, max_queued_texts=0)  # type: ignore[arg-type]


def test_no_challenger_means_no_scorer_and_a_bad_one_fails_start_up_saying_what_to_set(store, tmp_path):
    assert build_shadow_scorer(Settings(_env_file=None, shadow_model_uri=None), store) is None
    registry = Settings(_env_file=None, shadow_model_uri="models:/spam-classifier@challenger")
    with pytest.raises(StartupError, match=r"SHADOW_MODEL_URI=models:/spam-classifier@challenger: "):
        build_shadow_scorer(registry, store)
    with pytest.raises(ModelLoadError, match="no model at"):
        build_shadow_scorer(Settings(_env_file=None, shadow_model_uri=str(tmp_path / "missing")), store)


def test_a_trained_challenger_is_loaded_with_one_engine_thread_and_its_own_version(store, trained_model_dir, tmp_path):
    challenger = model_copy(trained_model_dir, tmp_path / "challenger", version="challenger-1")
    scorer = build_shadow_scorer(
        Settings(_env_file=None, shadow_model_uri=str(challenger), shadow_sample_rate=0.5), store
    )
    assert scorer is not None and scorer.sample_rate == 0.5 and scorer.max_queued_texts == 256
    default_backend = json.loads((trained_model_dir / "serving.json").read_text())["default_backend"]
    assert default_backend.startswith("onnx")  # an ONNX session, whose threads the scorer sets
    assert scorer.classifier.version == "challenger-1" and scorer.classifier.backend == default_backend
    assert scorer.classifier.engine.session.get_session_options().intra_op_num_threads == 1
