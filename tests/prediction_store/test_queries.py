"""Feedback and statistics in SQL, on SQLite and PostgreSQL: the latest label wins, what to send when the
request is unknown, and counts, agreement, precision and recall per model version."""

from datetime import timedelta

import pytest

from spam_service.errors import NotFoundError
from spam_service.prediction_store.database import utc_now
from spam_service.prediction_store.schema import feedback
from tests.support.prediction_store import MODEL, rows_in


def test_feedback_twice_is_idempotent_and_a_different_label_replaces_it(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], **MODEL)
    first = store.record_feedback("r1", 0, "spam")
    again = store.record_feedback("r1", 0, "spam")
    assert (first.changed, first.replaced, again.changed, again.replaced) == (True, None, False, None)
    assert len(rows_in(store_url, feedback)) == 1
    changed = store.record_feedback("r1", 0, "ham")
    assert (changed.changed, changed.replaced, changed.correct) == (True, "spam", False)
    assert [r.label for r in rows_in(store_url, feedback)] == ["ham"]


def test_feedback_for_an_unknown_request_or_index_is_refused_with_what_to_send(make_store):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    with pytest.raises(NotFoundError, match=r"no predictions are stored for request_id 'nope'.*X-Request-ID"):
        store.record_feedback("nope", 0, "spam")
    for index in (2, -1):
        with pytest.raises(NotFoundError, match=r"request r1 has 2 predictions; index must be 0\.\.1"):
            store.record_feedback("r1", index, "spam")


def test_statistics_count_per_model_version_with_agreement_precision_and_recall(make_store):
    store = make_store()
    # v1: 4 predictions (2 spam); feedback on 3: spam->spam (TP), spam->ham (FP), ham->spam (FN)
    store.add("a", predictions=[("spam", 0.9), ("spam", 0.8), ("ham", 0.1), ("ham", 0.2)], **MODEL)
    # v2: 2 predictions, no feedback
    store.add("b", predictions=[("ham", 0.1), ("spam", 0.7)], model_name="spam-minilm", model_version="v2")
    for index, label in ((0, "spam"), (1, "ham"), (2, "spam")):
        store.record_feedback("a", index, label)
    assert store.flush()
    by_version = {entry.model_version: entry.counts for entry in store.statistics()}
    v1, v2 = by_version["v1"], by_version["v2"]
    assert (v1.predictions, v1.spam_predicted, v1.with_feedback, v1.correct) == (4, 2, 3, 1)
    assert (v1.spam_share, v1.correctness_rate) == (0.5, pytest.approx(1 / 3, abs=1e-6))
    assert (v1.spam_precision, v1.spam_recall) == (0.5, 0.5)
    assert (v2.predictions, v2.spam_predicted, v2.with_feedback) == (2, 1, 0)
    assert (v2.correctness_rate, v2.spam_precision, v2.spam_recall) == (None, None, None)  # undefined, not 0


def test_statistics_filter_on_prediction_time(make_store):
    store = make_store()
    store.add("a", predictions=[("spam", 0.9)], **MODEL)
    assert store.flush()
    later = utc_now() + timedelta(seconds=1)
    assert [e.counts.predictions for e in store.statistics(since=later - timedelta(hours=1))] == [1]
    assert store.statistics(since=later) == []
    assert store.statistics(until=later - timedelta(hours=1)) == []
    assert [e.counts.predictions for e in store.statistics(until=later)] == [1]
