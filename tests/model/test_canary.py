"""Canary texts: the trained model labels every one right; a model that does not is refused, naming the texts."""

import pytest

from spam_service.model.canary import HAM_CANARIES, SPAM_CANARIES, CanaryFailedError, canary_misses, check_canaries
from spam_service.model.classifier import SpamClassifier
from spam_service.pipeline.dataset import dedup_key, read_collection
from tests.support import REPO_ROOT


def test_the_trained_model_labels_every_canary_text_right(trained_classifier):
    assert canary_misses(trained_classifier) == []
    check_canaries(trained_classifier, "weights/spam-minilm")


def test_an_untrained_model_is_refused_naming_the_texts_it_mislabels(tiny_bert_dir):
    untrained = SpamClassifier.load(tiny_bert_dir, max_tokens=32, threads=1)  # random weights: one label for all
    misses = canary_misses(untrained)
    assert misses, "a random model labelled every canary right"
    with pytest.raises(CanaryFailedError) as refused:
        check_canaries(untrained, "/tmp/candidate")
    message = str(refused.value)
    total = len(SPAM_CANARIES) + len(HAM_CANARIES)
    assert f"the model at /tmp/candidate mislabels {len(misses)} of {total} canary texts" in message
    assert repr(misses[0].text[:40]) in message and f"should be {misses[0].expected}" in message


def test_canary_texts_are_not_from_the_data_set():
    """A model must not pass by having seen them: none is in the SMS Spam Collection (as the pipeline dedups)."""
    collection = {dedup_key(example.text) for example in read_collection(REPO_ROOT / "data/raw/SMSSpamCollection")}
    assert not [text for text in (*SPAM_CANARIES, *HAM_CANARIES) if dedup_key(text) in collection]
