"""Model swaps below HTTP: the swapper (one at a time, refusals keep the old model, nothing keeps a replaced model
alive) and the alias watcher (swaps when the alias moves, not twice to a refused version, one log line per
registry outage)."""

import asyncio
import gc
import logging
import threading
import weakref

import pytest

from spam_service.errors import ModelLoadError, NotFoundError
from spam_service.model.classifier import SpamClassifier
from spam_service.model.swap import (
    AliasWatcher,
    ModelRefusedError,
    ModelSwapper,
    RegistryUnavailableError,
    SwapInProgressError,
)
from spam_service.models.registry import RegistryError, UnknownModelVersionError
from spam_service.runtime import load_classifier
from spam_service.settings import Settings
from tests.support.model_copies import model_copy
from tests.support.services import services_around

ALIAS = "models:/spam-classifier@champion"


@pytest.fixture(scope="module")
def other_classifier(trained_model_dir, tmp_path_factory) -> SpamClassifier:
    """The trained model under another version: a "different" model that passes the canaries."""
    copy = model_copy(trained_model_dir, tmp_path_factory.mktemp("other") / "model", version="0000000000b2")
    classifier = load_classifier(Settings(_env_file=None, model_dir=copy, inference_threads=1))
    classifier.registry_version = "2"
    return classifier


class Serving:
    """What the swapper switches: one reference, like `Services.classifier`."""

    def __init__(self, classifier: SpamClassifier) -> None:
        self.classifier = classifier
        self.switches = 0

    def switch(self, classifier: SpamClassifier) -> None:
        self.classifier = classifier
        self.switches += 1


def swapper_around(serving: Serving, load) -> ModelSwapper:
    return ModelSwapper(load, lambda: serving.classifier, serving.switch)


def test_a_swap_serves_the_candidate_and_reports_both_models(trained_classifier, other_classifier, caplog):
    serving = Serving(trained_classifier)
    swapper = swapper_around(serving, {"b": other_classifier}.__getitem__)
    with caplog.at_level(logging.INFO, logger="spam_service.model.swap"):
        result = swapper.swap("b", requested_by="ops")
    assert serving.classifier is other_classifier and serving.switches == 1
    assert (result.previous.version, result.current.version) == (trained_classifier.version, "0000000000b2")
    assert result.current.registry_version == "2" and result.load_s >= 0
    state = swapper.status()
    assert (state.state, state.last_result, state.last_error, state.swaps, state.last_uri) == (
        "idle",
        "swapped",
        None,
        1,
        "b",
    )
    [line] = [r.getMessage() for r in caplog.records if "model swap" in r.getMessage()]
    assert f"{trained_classifier.version} -> spam-minilm 0000000000b2 (registry version 2) from b" in line
    assert "requested by ops" in line


@pytest.mark.parametrize(
    ("failure", "refusal", "status"),
    [
        (ModelLoadError("model at x/ is broken (bad weights)"), ModelRefusedError, 422),
        (RegistryError("the registry at sqlite:///m.db is unreachable"), RegistryUnavailableError, 503),
        (UnknownModelVersionError("no version 9 of spam-classifier"), UnknownModelVersionError, 404),
    ],
)
def test_a_failed_load_leaves_the_old_model_serving_and_says_why(trained_classifier, failure, refusal, status, caplog):
    serving = Serving(trained_classifier)

    def load(uri: str) -> SpamClassifier:
        raise failure

    swapper = swapper_around(serving, load)
    with caplog.at_level(logging.WARNING, logger="spam_service.model.swap"), pytest.raises(refusal) as refused:
        swapper.swap("models:/spam-classifier/9", requested_by="ops")
    assert refused.value.status_code == status
    assert str(failure) in str(refused.value) and f"{trained_classifier.version} keeps serving" in str(refused.value)
    assert serving.classifier is trained_classifier and serving.switches == 0
    state = swapper.status()
    assert (state.last_result, state.last_error, state.refusals) == ("refused", str(failure), 1)
    assert any(
        "refused (requested by ops)" in r.getMessage() and str(failure) in r.getMessage() for r in caplog.records
    )


def test_a_directory_without_a_model_is_a_404(trained_classifier, tmp_path):
    from spam_service.model.loading import load_model

    swapper = swapper_around(Serving(trained_classifier), lambda uri: load_model(uri, Settings(_env_file=None)))
    with pytest.raises(NotFoundError, match=f"no model at {tmp_path}/"):
        swapper.swap(str(tmp_path), requested_by="ops")


def test_a_model_that_mislabels_canary_texts_is_refused(trained_classifier, tiny_bert_dir):
    serving = Serving(trained_classifier)
    swapper = swapper_around(serving, lambda uri: SpamClassifier.load(uri, max_tokens=32, threads=1))
    with pytest.raises(ModelRefusedError, match=r"mislabels \d+ of 8 canary texts") as refused:
        swapper.swap(str(tiny_bert_dir), requested_by="ops")
    assert refused.value.status_code == 422
    assert serving.classifier is trained_classifier


def test_a_second_swap_while_one_loads_is_refused_with_409(trained_classifier, other_classifier):
    serving = Serving(trained_classifier)
    loading, release = threading.Event(), threading.Event()

    def slow_load(uri: str) -> SpamClassifier:
        loading.set()
        release.wait(10)
        return other_classifier

    swapper = swapper_around(serving, slow_load)
    first = threading.Thread(target=swapper.swap, args=("b",), kwargs={"requested_by": "ops"})
    first.start()
    assert loading.wait(10)
    assert swapper.status().state == "swapping" and swapper.status().swapping_to == "b"
    with pytest.raises(SwapInProgressError, match="a model swap to b is in progress") as busy:
        swapper.swap("c", requested_by="ops")
    assert busy.value.status_code == 409
    release.set()
    first.join(10)
    assert serving.classifier is other_classifier and swapper.status().state == "idle"


def test_the_replaced_model_is_freed_when_its_last_request_finishes(trained_model_dir, other_classifier, tmp_path):
    """A request in flight keeps the old model until it is answered; then nothing holds it."""
    old = load_classifier(Settings(_env_file=None, model_dir=trained_model_dir, inference_threads=1))
    settings = Settings(_env_file=None, request_log_dir=tmp_path / "logs", inference_threads=1)
    services = services_around(old, settings)
    services.swapper._load = {"b": other_classifier}.__getitem__  # the load itself is tested above
    in_pass, release = threading.Event(), threading.Event()

    class Holding:
        """Holds the forward pass of the request in flight until released."""

        def __init__(self, predict) -> None:
            self.predict = predict

        def __call__(self, texts):
            in_pass.set()
            release.wait(10)
            return self.predict(texts)

    old.predict = Holding(old.predict)
    freed = weakref.ref(old)

    async def scenario() -> None:
        await services.start()
        in_flight = asyncio.create_task(services.batcher.predict(["see you at 7?"], classifier=services.classifier))
        await asyncio.to_thread(in_pass.wait, 10)
        result = await asyncio.to_thread(services.swapper.swap, "b", requested_by="test")
        assert result.current.version == services.classifier.version == "0000000000b2"
        assert services.batcher.classifier is other_classifier
        gc.collect()
        assert freed() is not None  # its request is still in its forward pass
        release.set()
        [prediction] = await in_flight
        assert prediction.label == "ham"
        await services.batcher.predict(["and another"])  # the collector moves on to the new model
        del in_flight, result
        gc.collect()
        assert freed() is None
        await services.close()

    del old
    asyncio.run(scenario())


def test_watcher_follows_the_alias_moves_not_again_to_a_refused_version_nor_over_an_operators_swap(
    trained_classifier, other_classifier
):
    serving = Serving(trained_classifier)
    names = {"version": "2"}
    loads: list[str] = []

    def load(uri: str) -> SpamClassifier:
        loads.append(uri)
        if names["version"] == "3":
            raise ModelLoadError("model at model-cache/3/ is broken (truncated weights)")
        return other_classifier

    swapper = swapper_around(serving, load)
    watcher = AliasWatcher(swapper, lambda uri: names["version"], lambda: serving.classifier, uri=ALIAS, interval_s=1)
    watcher.check()
    assert serving.classifier is other_classifier and loads == [ALIAS]
    watcher.check()  # version 2 serves: nothing to do
    assert loads == [ALIAS]
    names["version"] = "3"
    watcher.check()
    watcher.check()  # refused once: not loaded again while the alias stays there
    assert loads == [ALIAS, ALIAS] and serving.classifier is other_classifier
    assert swapper.status().last_error == "model at model-cache/3/ is broken (truncated weights)"
    serving.classifier = trained_classifier  # an operator's swap (POST /admin/model) while the alias stays on 3
    watcher.check()
    assert loads == [ALIAS, ALIAS] and serving.classifier is trained_classifier  # not undone
    names["version"] = "2"
    watcher.check()  # the alias moved: followed
    assert loads == [ALIAS, ALIAS, ALIAS] and serving.classifier is other_classifier


def test_watcher_logs_a_registry_outage_once_and_its_end(other_classifier, caplog):
    serving = Serving(other_classifier)  # registry version 2
    answers: list[str | Exception] = [RegistryError("registry down"), RegistryError("registry down"), "2"]

    def resolve(uri: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def no_load(uri: str) -> SpamClassifier:
        raise AssertionError("version 2 serves already: nothing to load")

    watcher = AliasWatcher(
        swapper_around(serving, no_load), resolve, lambda: serving.classifier, uri=ALIAS, interval_s=1
    )
    with caplog.at_level(logging.INFO, logger="spam_service.model.swap"):
        for _ in range(3):
            watcher.check()
    lines = [r.getMessage() for r in caplog.records]
    assert sum("cannot resolve" in line and "registry down" in line for line in lines) == 1
    assert sum("the registry answers again" in line for line in lines) == 1
    assert serving.switches == 0


def test_the_watcher_thread_runs_until_stopped_and_shows_as_a_thread(other_classifier):
    serving = Serving(other_classifier)
    polls: list[str] = []
    polled = threading.Event()

    def resolve(uri: str) -> str:
        polls.append(uri)
        if len(polls) >= 2:
            polled.set()
        return "2"

    swapper = swapper_around(serving, lambda uri: other_classifier)
    watcher = AliasWatcher(swapper, resolve, lambda: serving.classifier, uri=ALIAS, interval_s=0.05)
    watcher.start()
    assert polled.wait(10)
    assert watcher.status().name == "model-watcher" and watcher.status().alive
    watcher.stop()
    assert not watcher.status().alive and serving.switches == 0


def test_services_list_the_watcher_among_their_threads_and_stop_it_at_close(other_classifier, tmp_path):
    """Services.start builds the watcher from MODEL_URI and MODEL_WATCH_INTERVAL_S with the registry's `resolve`
    (checked once the registry lands); here one watching a plain function is handed in, to check the plumbing."""
    settings = Settings(_env_file=None, request_log_dir=tmp_path / "logs", inference_threads=1)
    services = services_around(other_classifier, settings)

    async def scenario() -> tuple[list[str], bool]:
        await services.start()
        services.model_watcher = AliasWatcher(
            services.swapper, lambda uri: "2", lambda: services.classifier, uri=ALIAS, interval_s=0.05
        )
        services.model_watcher.start()
        names = [thread.name for thread in services.thread_statuses() if thread.alive]
        await services.close()
        return names, services.model_watcher.status().alive

    names, alive_after_close = asyncio.run(scenario())
    assert "model-watcher" in names and not alive_after_close
    assert services.swapper.status().swaps == 0  # version 2 serves: nothing to swap
