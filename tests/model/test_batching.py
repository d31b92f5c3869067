"""MicroBatcher: concurrent requests share forward passes, each gets its own results in order, a failure stays with
the request that causes it, and shutdown finishes what was accepted. Runs a real (tiny) classifier; a gate holds
the first batch so that others queue up behind it deterministically."""

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from spam_service.model.batching import InferenceClosedError, MicroBatcher, _Pending, split_evenly
from spam_service.model.classifier import Prediction, SpamClassifier


class GatedClassifier:
    """The real classifier, recording each call's texts; the first call waits until `gate` is set."""

    def __init__(self, classifier: SpamClassifier) -> None:
        self.classifier = classifier
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.running = threading.Event()

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.calls.append(list(texts))
        self.running.set()
        self.gate.wait(timeout=10)
        if "boom" in texts:
            raise RuntimeError("boom")
        return self.classifier.predict(texts)


@pytest.fixture(scope="module")
def classifier(tiny_bert_dir: Path) -> SpamClassifier:
    return SpamClassifier.load(tiny_bert_dir, max_tokens=16, batch_size=4, threads=1)


REQUESTS = [["free prize"], ["hello mum", "see you at lunch"], ["ok"], ["call now txt stop", "", "😀"], ["win"]]


async def submit_behind_a_held_batch(batcher: MicroBatcher, gated: GatedClassifier, requests: list[list[str]]):
    """Start a first request, hold its batch, queue `requests` behind it, release; return their results."""
    batcher.start()
    first = asyncio.create_task(batcher.predict(["first"]))
    await asyncio.to_thread(gated.running.wait, 10)
    tasks = [asyncio.create_task(batcher.predict(texts)) for texts in requests]
    await asyncio.sleep(0.01)  # let every task enqueue
    gated.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await first
    await batcher.close()
    return results


def test_queued_requests_share_one_forward_pass_and_get_their_own_results(classifier):
    gated = GatedClassifier(classifier)
    batcher = MicroBatcher(gated, max_batch_texts=32, max_wait_s=0.0)
    results = asyncio.run(submit_behind_a_held_batch(batcher, gated, REQUESTS))

    assert gated.calls == [["first"], [text for texts in REQUESTS for text in texts]]
    for texts, predictions in zip(REQUESTS, results, strict=True):
        alone = classifier.predict(texts)
        assert [p.tokens for p in predictions] == [p.tokens for p in alone]
        assert [p.spam_probability for p in predictions] == pytest.approx([p.spam_probability for p in alone])
    assert (batcher.stats.batches, batcher.stats.requests, batcher.stats.texts) == (2, 6, 9)
    assert batcher.stats.largest_batch == 8


def test_a_batch_never_mixes_two_models(classifier):
    """Requests of two models (a swap happened while they queued) interleaved: each forward pass is one model's,
    and each request is answered by the model it named."""

    async def scenario():
        old, new = GatedClassifier(classifier), GatedClassifier(classifier)
        new.gate.set()
        batcher = MicroBatcher(old, max_batch_texts=32, max_wait_s=0.0)
        batcher.start()
        first = asyncio.create_task(batcher.predict(["first"]))  # held on the old model: the rest queue behind it
        await asyncio.to_thread(old.running.wait, 10)
        models = [old, new, new, old, new]
        tasks = [
            asyncio.create_task(batcher.predict(texts, classifier=model))
            for texts, model in zip(REQUESTS, models, strict=True)
        ]
        await asyncio.sleep(0.01)
        old.gate.set()
        results = await asyncio.gather(*tasks)
        await first
        await batcher.close()
        return old.calls, new.calls, results

    old_calls, new_calls, results = asyncio.run(scenario())
    # Consecutive requests of one model share a pass; a change of model closes the batch.
    assert old_calls == [["first"], REQUESTS[0], REQUESTS[3]]
    assert new_calls == [REQUESTS[1] + REQUESTS[2], REQUESTS[4]]
    assert [len(r) for r in results] == [len(texts) for texts in REQUESTS]


def test_batches_never_exceed_the_limit_nor_split_a_request(classifier):
    gated = GatedClassifier(classifier)
    batcher = MicroBatcher(gated, max_batch_texts=3, max_wait_s=0.0)
    big = ["a", "b", "c", "d", "e"]
    results = asyncio.run(submit_behind_a_held_batch(batcher, gated, [*REQUESTS, big]))

    batches = gated.calls[1:]
    assert [text for batch in batches for text in batch] == [text for texts in [*REQUESTS, big] for text in texts]
    assert all(len(batch) <= 3 for batch in batches if batch != big)  # only a request larger than the limit
    assert big in batches  # runs alone, whole
    assert [len(r) for r in results] == [len(texts) for texts in [*REQUESTS, big]]


def test_on_batch_reports_each_answered_batch_with_its_size_and_model_time(classifier):
    gated = GatedClassifier(classifier)
    reported: list[tuple[int, float]] = []
    batcher = MicroBatcher(
        gated, max_batch_texts=32, max_wait_s=0.0, on_batch=lambda texts, seconds: reported.append((texts, seconds))
    )
    started = time.perf_counter()
    asyncio.run(submit_behind_a_held_batch(batcher, gated, [["free prize"], ["boom"], ["ok", "see you"]]))
    elapsed = time.perf_counter() - started

    # The held first batch, then the failing batch of three requests is not reported: its requests re-run one by one.
    assert [texts for texts, _ in reported] == [1, 1, 2]
    assert all(0 < seconds < elapsed for _, seconds in reported)
    assert reported[0][1] >= 0.01  # the first batch was held on its worker thread until the others had queued


def test_a_lone_request_does_not_wait_for_company(classifier):
    async def scenario() -> tuple[list[list[str]], float]:
        gated = GatedClassifier(classifier)
        gated.gate.set()
        batcher = MicroBatcher(gated, max_batch_texts=32, max_wait_s=30.0)
        batcher.start()
        started = time.perf_counter()
        await batcher.predict(["one"])
        elapsed = time.perf_counter() - started
        await batcher.close()
        return gated.calls, elapsed

    calls, elapsed = asyncio.run(scenario())
    assert calls == [["one"]]
    assert elapsed < 5  # not the 30 s wait


def test_the_last_free_worker_waits_for_company_while_the_others_are_busy(classifier):
    async def scenario() -> list[list[str]]:
        gated = GatedClassifier(classifier)
        batcher = MicroBatcher(gated, max_batch_texts=3, max_wait_s=30.0, workers=2)  # full at 3: no 30 s wait
        batcher.start()
        held = asyncio.create_task(batcher.predict(["held"]))  # occupies one worker until the gate opens
        await asyncio.to_thread(gated.running.wait, 10)
        first = asyncio.create_task(batcher.predict(["one"]))
        await asyncio.sleep(0.05)  # well inside the wait: "one" has not run yet
        assert gated.calls == [["held"]]
        rest = asyncio.create_task(batcher.predict(["two", "three"]))
        await asyncio.sleep(0.05)
        gated.gate.set()
        await asyncio.gather(held, first, rest)
        await batcher.close()
        return gated.calls

    assert asyncio.run(scenario()) == [["held"], ["one", "two", "three"]]


def test_a_failing_request_fails_alone(classifier):
    gated = GatedClassifier(classifier)
    batcher = MicroBatcher(gated, max_batch_texts=32, max_wait_s=0.0)
    results = asyncio.run(submit_behind_a_held_batch(batcher, gated, [["free prize"], ["boom"], ["ok"]]))

    assert [len(r) for r in (results[0], results[2])] == [1, 1]
    assert isinstance(results[1], RuntimeError) and str(results[1]) == "boom"


def test_close_finishes_accepted_requests_then_refuses_new_ones(classifier):
    async def scenario() -> None:
        gated = GatedClassifier(classifier)
        batcher = MicroBatcher(gated, max_batch_texts=1, max_wait_s=0.0)
        batcher.start()
        accepted = [asyncio.create_task(batcher.predict([text])) for text in ("a", "b", "c")]
        await asyncio.sleep(0.01)
        closing = asyncio.create_task(batcher.close())
        await asyncio.sleep(0.01)
        gated.gate.set()
        await closing
        assert [len(await task) for task in accepted] == [1, 1, 1]
        with pytest.raises(InferenceClosedError):
            await batcher.predict(["late"])

    asyncio.run(scenario())


def test_a_caller_that_gave_up_while_queued_costs_no_inference(classifier):
    async def scenario() -> list[list[str]]:
        gated = GatedClassifier(classifier)
        batcher = MicroBatcher(gated, max_batch_texts=32, max_wait_s=0.0)
        batcher.start()
        first = asyncio.create_task(batcher.predict(["first"]))
        await asyncio.to_thread(gated.running.wait, 10)
        gone = asyncio.create_task(batcher.predict(["gone"]))
        kept = asyncio.create_task(batcher.predict(["kept"]))
        await asyncio.sleep(0.01)
        gone.cancel()
        gated.gate.set()
        await asyncio.gather(first, kept)
        await batcher.close()
        return gated.calls

    assert asyncio.run(scenario()) == [["first"], ["kept"]]


class BarrierClassifier:
    """The real classifier behind a barrier: a call returns only once `parties` calls are inside at the same time."""

    def __init__(self, classifier: SpamClassifier, parties: int) -> None:
        self.classifier = classifier
        self.barrier = threading.Barrier(parties, timeout=10)
        self.calls: list[list[str]] = []

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.calls.append(list(texts))
        self.barrier.wait()  # BrokenBarrierError after 10 s if the passes ran one after the other
        return self.classifier.predict(texts)


def test_idle_workers_share_a_batch_and_run_their_parts_at_once(classifier):
    requests = [["free prize"], ["hello mum", "see you"], ["ok"]]

    async def scenario() -> tuple[list[list[Prediction]], list[list[str]]]:
        both = BarrierClassifier(classifier, parties=2)
        batcher = MicroBatcher(both, max_batch_texts=4, max_wait_s=0.0, workers=2)
        batcher.start()
        results = await asyncio.gather(*(batcher.predict(texts) for texts in requests))
        await batcher.close()
        return results, both.calls

    results, calls = asyncio.run(scenario())
    # One batch of 4 texts, cut between requests into about 2 + 2 for the two idle workers, run at the same time.
    assert sorted(calls) == [["free prize", "hello mum", "see you"], ["ok"]]
    for texts, predictions in zip(requests, results, strict=True):
        assert [p.tokens for p in predictions] == [p.tokens for p in classifier.predict(texts)]


@pytest.mark.parametrize(
    ("sizes", "parts", "expected"),
    [
        ([1] * 8, 2, [[1] * 4, [1] * 4]),
        ([16, 1, 1], 2, [[16], [1, 1]]),
        ([1, 1, 16], 2, [[1, 1], [16]]),
        ([1, 1], 2, [[1], [1]]),
        ([3, 3, 3], 3, [[3], [3], [3]]),
        ([5, 1, 1, 1], 3, [[5], [1], [1, 1]]),
        ([2, 2, 2], 1, [[2, 2, 2]]),
    ],
)
def test_split_evenly_keeps_order_and_balances_texts(sizes, parts, expected):
    batch = [_Pending(["x"] * n, None, None) for n in sizes]  # type: ignore[arg-type]
    groups = split_evenly(batch, parts)
    assert [[len(p.texts) for p in group] for group in groups] == expected
    assert [p for group in groups for p in group] == batch


def test_past_the_queue_bound_requests_are_refused_at_once_with_a_retry_after(classifier):
    from spam_service.model.batching import OverloadedError

    gated = GatedClassifier(classifier)
    batcher = MicroBatcher(gated, max_batch_texts=4, max_wait_s=0.0, max_queued_texts=6)

    async def scenario():
        batcher.start()
        held = asyncio.create_task(batcher.predict(["a", "b", "c", "d"]))  # 4 of 6 queued, in the held batch
        await asyncio.to_thread(gated.running.wait, 10)
        fits = asyncio.create_task(batcher.predict(["e", "f"]))  # 6 of 6
        await asyncio.sleep(0.01)
        assert batcher.shed(1) is not None  # what the HTTP layer asks before reading a body
        with pytest.raises(OverloadedError) as refused:
            await batcher.predict(["g"])
        gated.gate.set()
        await asyncio.gather(held, fits)
        assert batcher.queued_texts == 0 and batcher.shed(6) is None
        await batcher.predict(["h"])  # room again
        await batcher.close()
        return refused.value

    refusal = asyncio.run(scenario())
    assert refusal.status_code == 503 and refusal.retry_after >= 1 and "overloaded" in str(refusal)
    assert batcher.refused_overloaded == 2


def test_a_request_past_its_deadline_is_refused_and_its_texts_never_run(classifier):
    from spam_service.model.batching import DeadlineExceededError

    gated = GatedClassifier(classifier)
    batcher = MicroBatcher(gated, max_batch_texts=1, max_wait_s=0.0)

    async def scenario():
        batcher.start()
        held = asyncio.create_task(batcher.predict(["held"]))
        await asyncio.to_thread(gated.running.wait, 10)
        started = time.perf_counter()
        with pytest.raises(DeadlineExceededError):
            await batcher.predict(["too late"], deadline=time.perf_counter() + 0.2)
        waited = time.perf_counter() - started
        gated.gate.set()
        await held
        await batcher.close()
        return waited

    waited = asyncio.run(scenario())
    assert 0.15 < waited < 2
    assert ["too late"] not in gated.calls  # dropped from the queue, not classified for nobody
    assert batcher.refused_deadline == 1 and batcher.queued_texts == 0


def test_a_crashed_collector_fails_its_waiting_requests_with_503_and_is_restarted(classifier, monkeypatch):
    from spam_service.errors import UnavailableError

    batcher = MicroBatcher(classifier, max_batch_texts=8, max_wait_s=0.05)
    original = split_evenly
    crashes = iter([True])

    def split_that_crashes_once(batch, parts):
        if next(crashes, False):
            raise RuntimeError("a bug in the collector")
        return original(batch, parts)

    monkeypatch.setattr("spam_service.model.batching.split_evenly", split_that_crashes_once)

    async def scenario():
        batcher.start()
        failed = await asyncio.gather(batcher.predict(["one"]), batcher.predict(["two"]), return_exceptions=True)
        await asyncio.sleep(0)  # the restart is scheduled by the collector's done-callback
        answered = await asyncio.wait_for(batcher.predict(["after the restart"]), 10)
        status = batcher.status()
        await batcher.close()
        return failed, answered, status

    failed, answered, status = asyncio.run(scenario())
    assert all(isinstance(result, UnavailableError) for result in failed), failed
    assert len(answered) == 1
    assert status.alive and status.crashes == 1 and "a bug in the collector" in status.last_crash
    assert batcher.queued_texts == 0
