"""Feedback and statistics in SQL, on SQLite and PostgreSQL: the latest label wins, what to send when the
request is unknown, counts, agreement, precision and recall per model version, and provenance (the key that asked,
the key that reported, a predict key kept to its own predictions, statistics of one reporter's feedback)."""

from datetime import timedelta

import pytest

from spam_service.errors import InvalidInputError, NotFoundError
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


# -- provenance: who asked, who reported -------------------------------------------------------------------------


def test_predictions_keep_the_key_that_asked_and_feedback_the_key_that_reported(make_store, store_url):
    store = make_store()
    store.add("alice-1", predictions=[("spam", 0.9), ("ham", 0.1)], requested_by="alice", **MODEL)
    store.add("anonymous", predictions=[("ham", 0.1)], **MODEL)  # authentication off
    store.record_feedback("alice-1", 1, "spam", reporter="ops")
    store.record_feedback("anonymous", 0, "ham")
    assert store.flush()
    assert [(r.request_id, r.requested_by) for r in rows_in(store_url)] == [
        ("alice-1", "alice"),
        ("alice-1", "alice"),
        ("anonymous", None),
    ]
    assert [(r.request_id, r.reported_by) for r in rows_in(store_url, feedback)] == [
        ("alice-1", "ops"),
        ("anonymous", None),
    ]


def test_the_latest_report_wins_with_its_reporter(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], requested_by="alice", **MODEL)
    assert store.record_feedback("r1", 0, "ham", reporter="alice", any_prediction=False).changed
    same_label_other_key = store.record_feedback("r1", 0, "ham", reporter="ops")
    assert (same_label_other_key.changed, same_label_other_key.replaced) == (True, None)  # new reporter, same label
    assert not store.record_feedback("r1", 0, "ham", reporter="ops").changed
    assert [(r.label, r.reported_by) for r in rows_in(store_url, feedback)] == [("ham", "ops")]


def not_found_message(store, request_id: str, index: int = 0, **who) -> str:
    with pytest.raises(NotFoundError) as refused:
        store.record_feedback(request_id, index, "spam", **who)
    return str(refused.value).replace(repr(request_id), "<id>")


def test_a_predict_key_cannot_give_feedback_on_another_keys_or_unauthenticated_predictions(make_store, store_url):
    store = make_store()
    store.add("alice-1", predictions=[("spam", 0.9), ("ham", 0.1)], requested_by="alice", **MODEL)
    store.add("anonymous", predictions=[("spam", 0.9)], **MODEL)
    assert store.flush()  # written: the database, not the queue, must refuse them
    bob = {"reporter": "bob", "any_prediction": False}
    unknown = not_found_message(store, "never-predicted", **bob)
    assert "for this API key" in unknown and "X-Request-ID" in unknown
    # Refused exactly as an unknown id, whatever the index: neither the owner nor the count of texts shows.
    assert not_found_message(store, "alice-1", **bob) == unknown
    assert not_found_message(store, "alice-1", index=5, **bob) == unknown
    assert not_found_message(store, "anonymous", **bob) == unknown
    assert rows_in(store_url, feedback) == []
    # The owner may, and a key allowed feedback on any prediction may correct both.
    assert store.record_feedback("alice-1", 0, "ham", reporter="alice", any_prediction=False).replaced is None
    assert store.record_feedback("anonymous", 0, "ham", reporter="ops").predicted_label == "spam"
    with pytest.raises(NotFoundError, match=r"request alice-1 has 2 predictions"):  # its own: the count helps
        store.record_feedback("alice-1", 2, "ham", reporter="alice", any_prediction=False)


def test_restricting_feedback_to_own_predictions_needs_a_reporter(make_store):
    store = make_store()
    with pytest.raises(ValueError, match="needs the reporter"):
        store.record_feedback("r1", 0, "spam", reporter=None, any_prediction=False)


def test_statistics_for_a_reporter_count_only_its_feedback_and_every_prediction(make_store):
    store = make_store()
    # 4 predictions (2 spam). alice: spam->spam (TP), spam->ham (FP); bob: ham->spam (FN); ham at 3: no feedback.
    store.add("a", predictions=[("spam", 0.9), ("spam", 0.8), ("ham", 0.1), ("ham", 0.2)], **MODEL)
    for index, label, reporter in ((0, "spam", "alice"), (1, "ham", "alice"), (2, "spam", "bob")):
        store.record_feedback("a", index, label, reporter=reporter)
    [everyone] = store.statistics()
    [alice] = store.statistics(reporter="alice")
    [bob] = store.statistics(reporter="bob")
    [nobody] = store.statistics(reporter="carol")
    assert (everyone.counts.with_feedback, everyone.counts.spam_precision, everyone.counts.spam_recall) == (3, 0.5, 0.5)
    assert (alice.counts.with_feedback, alice.counts.correct, alice.counts.spam_precision) == (2, 1, 0.5)
    assert alice.counts.spam_recall == 1.0  # bob's false negative is not alice's
    assert (bob.counts.with_feedback, bob.counts.correct, bob.counts.spam_recall, bob.counts.spam_precision) == (
        1,
        0,
        0.0,
        None,
    )
    assert (nobody.counts.with_feedback, nobody.counts.correctness_rate) == (0, None)
    for entry in (alice, bob, nobody):  # predictions are not filtered
        assert (entry.counts.predictions, entry.counts.spam_predicted) == (4, 2)
        assert (entry.first_prediction, entry.last_prediction) == (everyone.first_prediction, everyone.last_prediction)
    # bob reports the same text after alice: the latest report is bob's alone.
    store.record_feedback("a", 0, "spam", reporter="bob")
    [alice] = store.statistics(reporter="alice")
    [bob] = store.statistics(reporter="bob")
    assert (alice.counts.with_feedback, bob.counts.with_feedback, bob.counts.true_spam) == (1, 2, 1)


def test_feedback_stores_the_text_a_reporter_sends_and_a_later_report_without_one_keeps_it(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("ham", 0.2)], **MODEL)  # STORE_TEXTS off: no predicted text
    sent = store.record_feedback("r1", 0, "spam", reporter="alice", text="Pay the 1.99 fee now")
    assert sent.changed
    assert [(r.label, r.text) for r in rows_in(store_url, feedback)] == [("spam", "Pay the 1.99 fee now")]
    relabelled = store.record_feedback("r1", 0, "ham", reporter="alice")
    assert relabelled.replaced == "spam"
    assert [(r.label, r.text) for r in rows_in(store_url, feedback)] == [("ham", "Pay the 1.99 fee now")]


def test_a_text_that_differs_from_the_predicted_text_is_refused_and_stores_nothing(make_store, store_url):
    store = make_store(store_texts=True)
    store.add("r1", predictions=[("ham", 0.2)], texts=["See you at 7?"], **MODEL)
    with pytest.raises(InvalidInputError, match="text does not match the text predicted as index 0 of request r1"):
        store.record_feedback("r1", 0, "spam", text="See you at 8?")
    assert rows_in(store_url, feedback) == []
    assert store.record_feedback("r1", 0, "spam", text="See you at 7?").changed  # the same text is accepted
