"""A challenger's shadow predictions in the store, on SQLite and PostgreSQL: queued and written like the served
model's rows (bounded, idempotent on retry, deleted with their prediction), the registry version kept on both, and
the comparison /statistics shows (the two models on the same texts, agreement, one reporter's feedback)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from spam_service.prediction_store.database import utc_now
from spam_service.prediction_store.schema import predictions, shadow_predictions
from tests.support.prediction_store import MODEL, rows_in

CHALLENGER = {"model_name": "spam-minilm", "model_version": "v2", "registry_version": "4"}


def test_shadow_rows_are_written_beside_the_served_rows_with_both_registry_versions(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], registry_version="3", **MODEL)
    store.add("r2", predictions=[("ham", 0.2)], **MODEL)  # served from a directory: no registry version
    assert store.add_shadow("r1", predictions=[("spam", 0.8), ("spam", 0.6)], **CHALLENGER)
    assert store.flush()
    assert [(r.request_id, r.registry_version) for r in rows_in(store_url)] == [("r1", "3"), ("r1", "3"), ("r2", None)]
    stored = rows_in(store_url, shadow_predictions)
    assert [(r.request_id, r.text_index, r.label, r.model_version, r.registry_version) for r in stored] == [
        ("r1", 0, "spam", "v2", "4"),
        ("r1", 1, "spam", "v2", "4"),
    ]
    assert stored[1].spam_probability == pytest.approx(0.6)
    assert store.status().rows_written == 5  # the store's counts include shadow rows


def test_shadow_rows_fill_at_most_half_the_pending_bound_and_never_count_as_dropped_predictions(make_store, store_url):
    store = make_store(flush_interval=60, max_pending=8)  # half: 4
    store.add("r1", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    assert store.add_shadow("r1", predictions=[("spam", 0.8), ("ham", 0.3)], **CHALLENGER)  # 4 waiting: the half
    store.add("r2", predictions=[("ham", 0.1)], **MODEL)
    assert not store.add_shadow("r2", predictions=[("ham", 0.2)], **CHALLENGER)  # 6 > 4: not queued
    assert store.status().rows_dropped == 0  # no prediction was lost
    store.add("r3", predictions=[("ham", 0.1)] * 3, **MODEL)  # predictions still have the other half
    assert (store.status().rows_waiting, store.status().rows_dropped) == (8, 0)
    assert store.flush()
    assert store.add_shadow("r2", predictions=[("ham", 0.2)], **CHALLENGER)  # room again once written
    assert store.flush()
    assert [r.request_id for r in rows_in(store_url, shadow_predictions)] == ["r1", "r1", "r2"]


def test_a_shadow_row_whose_prediction_was_never_stored_is_rejected_and_the_others_written(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], **MODEL)
    store.add_shadow("lost", predictions=[("ham", 0.1)], **CHALLENGER)  # its prediction was dropped, say
    store.add_shadow("r1", predictions=[("ham", 0.4)], **CHALLENGER)
    assert store.flush()
    assert [r.request_id for r in rows_in(store_url, shadow_predictions)] == ["r1"]
    assert store.status().rows_rejected == 1


def test_a_shadow_row_written_twice_is_stored_once_and_deleting_its_prediction_deletes_it(make_store, store_url):
    store = make_store()
    store.add("r1", predictions=[("spam", 0.9)], **MODEL)
    store.add_shadow("r1", predictions=[("spam", 0.7)], **CHALLENGER)
    store.add_shadow("r1", predictions=[("spam", 0.7)], **CHALLENGER)  # a retry after a lost acknowledgement
    assert store.flush()
    assert len(rows_in(store_url, shadow_predictions)) == 1
    engine = store.database.engine  # the store's own: SQLite with foreign keys (and cascades) on
    with engine.begin() as connection:
        connection.execute(sa.delete(predictions))  # retention
    assert rows_in(store_url, shadow_predictions) == []


def test_the_comparison_shows_both_models_on_the_same_texts_with_agreement(make_store):
    store = make_store()
    # Served: spam, spam, ham, ham; challenger: spam, ham, spam, (not scored). Feedback: spam, ham, spam, ham.
    store.add("a", predictions=[("spam", 0.9), ("spam", 0.8), ("ham", 0.1), ("ham", 0.2)], **MODEL)
    store.add_shadow("a", predictions=[("spam", 0.9), ("ham", 0.3), ("spam", 0.6)], **CHALLENGER)
    store.add("b", predictions=[("ham", 0.1)], **MODEL)  # not sampled: in by_model, not in the comparison
    for index, label in ((0, "spam"), (1, "ham"), (2, "spam"), (3, "ham")):
        store.record_feedback("a", index, label)
    [comparison] = store.shadow_statistics()
    assert (comparison.model_name, comparison.model_version, comparison.registry_version) == ("spam-minilm", "v2", "4")
    challenger, served = comparison.challenger, comparison.served
    assert (challenger.predictions, challenger.spam_predicted, challenger.with_feedback, challenger.correct) == (
        3,
        2,
        3,
        3,
    )
    assert (challenger.spam_precision, challenger.spam_recall, challenger.correctness_rate) == (1.0, 1.0, 1.0)
    # The served model on those three texts only: spam (TP), spam (FP), ham (FN).
    assert (served.predictions, served.spam_predicted, served.with_feedback, served.correct) == (3, 2, 3, 1)
    assert (served.spam_precision, served.spam_recall) == (0.5, 0.5)
    assert (comparison.agreeing, comparison.agreement) == (1, pytest.approx(1 / 3, abs=1e-6))
    assert comparison.first_prediction <= comparison.last_prediction
    [whole] = store.statistics()
    assert whole.counts.predictions == 5  # by_model still counts every served prediction


def test_the_comparison_for_a_reporter_counts_only_its_feedback_on_both_sides(make_store):
    store = make_store()
    store.add("a", predictions=[("spam", 0.9), ("ham", 0.1)], **MODEL)
    store.add_shadow("a", predictions=[("spam", 0.9), ("spam", 0.7)], **CHALLENGER)
    store.record_feedback("a", 0, "spam", reporter="alice")
    store.record_feedback("a", 1, "spam", reporter="bob")
    [alice] = store.shadow_statistics(reporter="alice")
    [bob] = store.shadow_statistics(reporter="bob")
    [nobody] = store.shadow_statistics(reporter="carol")
    assert (alice.challenger.with_feedback, alice.served.with_feedback, alice.served.spam_recall) == (1, 1, 1.0)
    assert (bob.challenger.correct, bob.served.correct, bob.served.spam_recall) == (1, 0, 0.0)
    assert (nobody.challenger.with_feedback, nobody.served.correctness_rate) == (0, None)
    for entry in (alice, bob, nobody):  # predictions and agreement are not filtered
        assert (entry.challenger.predictions, entry.served.spam_predicted, entry.agreeing) == (2, 1, 1)


def test_the_comparison_filters_on_the_challengers_time_and_is_empty_without_shadow_rows(make_store):
    store = make_store()
    store.add("a", predictions=[("spam", 0.9)], **MODEL)
    assert store.shadow_statistics() == []
    store.add_shadow("a", predictions=[("spam", 0.9)], **CHALLENGER)
    hour = timedelta(hours=1)
    assert [c.challenger.predictions for c in store.shadow_statistics(since=utc_now() - hour)] == [1]
    assert store.shadow_statistics(since=utc_now() + hour) == []
    assert store.shadow_statistics(until=utc_now() - hour) == []
