"""Feedback and statistics: the SQL behind /feedback and /statistics, and what it returns.

Both block on the database: the API calls them from a worker thread, through `PredictionStore`, which first makes
sure the rows they read are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from spam_service.errors import InvalidInputError, NotFoundError
from spam_service.model.labels import SPAM
from spam_service.prediction_store.database import Database, utc_now
from spam_service.prediction_store.schema import feedback, predictions, shadow_predictions


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    request_id: str
    index: int
    label: str
    predicted_label: str
    model_name: str
    model_version: str
    registry_version: str | None
    changed: bool  # stored something new (first feedback, or a different label)
    replaced: str | None  # the earlier, different label this one replaced

    @property
    def correct(self) -> bool:
        return self.label == self.predicted_label


@dataclass(frozen=True, slots=True)
class Counts:
    """Aggregates of one model version (or of all): counts from SQL, rates derived here (None when undefined)."""

    predictions: int
    spam_predicted: int
    with_feedback: int
    correct: int
    true_spam: int  # predicted spam, fed back spam
    fed_back_predicted_spam: int
    fed_back_spam: int

    @staticmethod
    def _ratio(numerator: int, denominator: int) -> float | None:
        return round(numerator / denominator, 6) if denominator else None

    @property
    def spam_share(self) -> float | None:
        return self._ratio(self.spam_predicted, self.predictions)

    @property
    def correctness_rate(self) -> float | None:
        return self._ratio(self.correct, self.with_feedback)

    @property
    def spam_precision(self) -> float | None:
        return self._ratio(self.true_spam, self.fed_back_predicted_spam)

    @property
    def spam_recall(self) -> float | None:
        return self._ratio(self.true_spam, self.fed_back_spam)

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__))


@dataclass(frozen=True, slots=True)
class ModelCounts:
    model_name: str
    model_version: str
    registry_version: str | None  # None: served from a directory
    first_prediction: datetime
    last_prediction: datetime
    counts: Counts


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """A challenger against the served model(s) on the texts the challenger scored: the same texts, the same
    feedback, so the two `Counts` compare like for like."""

    model_name: str
    model_version: str
    registry_version: str | None
    first_prediction: datetime  # of the challenger's rows
    last_prediction: datetime
    challenger: Counts
    served: Counts
    agreeing: int  # texts both labelled alike

    @property
    def agreement(self) -> float | None:
        texts = self.challenger.predictions
        return round(self.agreeing / texts, 6) if texts else None


def record_feedback(
    database: Database,
    request_id: str,
    index: int,
    label: str,
    *,
    reporter: str | None = None,
    any_prediction: bool = True,
    text: str | None = None,
) -> FeedbackResult:
    """Store the true label of prediction `index` of `request_id`, reported by API key `reporter` (None: no
    authentication); the latest report wins, its reporter with it.

    With `any_prediction=False` only the predictions requested by `reporter` are looked at: another key's request
    (or one made without authentication, requested_by NULL) raises the very NotFoundError of an unknown request.
    `changed` is true when the label or the reporter differs from the stored report (a new row in either case), or
    when `text` is new.

    `text` is the message itself, sent by the reporter so that the feedback can become training data without
    STORE_TEXTS: stored with the report (a report without one keeps the text of an earlier one). When the
    prediction's own text is stored, `text` must be that text.

    Raises NotFoundError (unknown request, or no text at that index), InvalidInputError (`text` is not the predicted
    text), UnavailableError.
    """
    if not any_prediction and reporter is None:
        raise ValueError("any_prediction=False needs the reporter whose own predictions it may correct")
    statement = (
        sa.select(predictions.c.text_index, predictions.c.label, predictions.c.model_name,
                  predictions.c.model_version, predictions.c.registry_version, predictions.c.text)
        .where(predictions.c.request_id == request_id)
        .order_by(predictions.c.text_index)
    )  # fmt: skip
    if not any_prediction:
        # `=` is never true for NULL, so unauthenticated predictions are nobody's own.
        statement = statement.where(predictions.c.requested_by == reporter)
    with database.transaction() as connection:
        rows = connection.execute(statement).all()
        if not rows:
            whose = "" if any_prediction else " for this API key"
            raise NotFoundError(
                f"no predictions are stored{whose} for request_id {request_id!r}: send the request_id of a /predict "
                "response (its body's request_id, or its X-Request-ID header)"
            )
        if not 0 <= index < len(rows):  # no such prediction: 404, like an unknown request
            raise NotFoundError(
                f"request {request_id} has {len(rows)} prediction{'s' if len(rows) != 1 else ''}; "
                f"index must be 0..{len(rows) - 1} (the position of the text in that request)"
            )
        prediction = rows[index]
        if text is not None and prediction.text is not None and text != prediction.text:
            # Training data would pair this label with a message the model never saw under this request_id.
            raise InvalidInputError(
                f"text does not match the text predicted as index {index} of request {request_id}: send that "
                "request's text exactly as it was sent to /predict, or leave `text` out"
            )
        key = (feedback.c.request_id == request_id) & (feedback.c.text_index == index)
        stored = connection.execute(
            sa.select(feedback.c.label, feedback.c.reported_by, feedback.c.text).where(key)
        ).one_or_none()
        earlier = stored.label if stored is not None else None
        changed = (
            stored is None
            or (stored.label, stored.reported_by) != (label, reporter)
            or (text is not None and text != stored.text)
        )
        if changed:
            upsert = database.insert(feedback).values(
                request_id=request_id,
                text_index=index,
                label=label,
                received_at=utc_now(),
                reported_by=reporter,
                text=text,
            )
            replaced = ["label", "received_at", "reported_by"] + (["text"] if text is not None else [])
            upsert = upsert.on_conflict_do_update(
                index_elements=["request_id", "text_index"],
                set_={name: upsert.excluded[name] for name in replaced},
            )
            connection.execute(upsert)
    return FeedbackResult(
        request_id=request_id,
        index=index,
        label=label,
        predicted_label=prediction.label,
        model_name=prediction.model_name,
        model_version=prediction.model_version,
        registry_version=prediction.registry_version,
        changed=changed,
        replaced=earlier if earlier is not None and earlier != label else None,
    )


def count_if(condition: Any) -> Any:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def counts_columns(predicted: Any, fed_back: Any) -> list[Any]:
    """The aggregates of `Counts`, in its field order, for a predicted-label column and the feedback label column
    of an outer join (NULL: no feedback)."""
    predicted_spam = predicted == SPAM
    return [
        sa.func.count(),
        count_if(predicted_spam),
        sa.func.count(fed_back),
        count_if(fed_back == predicted),
        count_if(predicted_spam & (fed_back == SPAM)),
        count_if(predicted_spam & fed_back.is_not(None)),
        count_if(fed_back == SPAM),
    ]


def feedback_join(reporter: str | None) -> Any:
    """The ON clause joining `feedback` to `predictions`; with `reporter`, only that key's (latest) reports join:
    in the join, not WHERE, so predictions without such feedback still count."""
    p, f = predictions, feedback
    joined = (f.c.request_id == p.c.request_id) & (f.c.text_index == p.c.text_index)
    if reporter is not None:
        joined &= f.c.reported_by == reporter
    return joined


def counts_by_model(
    database: Database, since: datetime | None, until: datetime | None, *, reporter: str | None = None
) -> list[ModelCounts]:
    """Aggregates per model version of the predictions made in [since, until) (naive UTC), in SQL.

    With `reporter` (an API key name), a prediction's feedback counts only if its stored (latest) report came from
    that key: with_feedback, correct, true_spam, fed_back_predicted_spam and fed_back_spam (hence correctness,
    precision and recall) cover that key's feedback alone, as if no other feedback existed; a report another key
    made later replaced it and counts for neither. predictions, spam_predicted and the first/last prediction times
    are not filtered: they count every prediction in the window, whoever requested it.
    """
    p, f = predictions, feedback
    statement = (
        sa.select(
            p.c.model_name,
            p.c.model_version,
            p.c.registry_version,
            sa.func.min(p.c.predicted_at),
            sa.func.max(p.c.predicted_at),
            *counts_columns(p.c.label, f.c.label),
        )
        .select_from(p.outerjoin(f, feedback_join(reporter)))
        .group_by(p.c.model_name, p.c.model_version, p.c.registry_version)
        .order_by(sa.func.min(p.c.predicted_at))
    )
    if since is not None:
        statement = statement.where(p.c.predicted_at >= since)
    if until is not None:
        statement = statement.where(p.c.predicted_at < until)
    with database.transaction() as connection:
        rows = connection.execute(statement).all()
    return [
        ModelCounts(name, version, registry_version, first, last, Counts(*(int(value) for value in counts)))
        for name, version, registry_version, first, last, *counts in rows
    ]


def shadow_comparison(
    database: Database, since: datetime | None, until: datetime | None, *, reporter: str | None = None
) -> list[ShadowComparison]:
    """Per challenger model version, on the texts it scored in [since, until) (its rows' time, naive UTC): its
    counts, the served model's counts on those same texts (whichever served version answered each), and how
    often the two labels agree. `reporter` filters the feedback exactly as in `counts_by_model`."""
    s, p, f = shadow_predictions, predictions, feedback
    served_text = (p.c.request_id == s.c.request_id) & (p.c.text_index == s.c.text_index)
    statement = (
        sa.select(
            s.c.model_name,
            s.c.model_version,
            sa.func.max(s.c.registry_version),
            sa.func.min(s.c.predicted_at),
            sa.func.max(s.c.predicted_at),
            *counts_columns(s.c.label, f.c.label),
            *counts_columns(p.c.label, f.c.label),
            count_if(s.c.label == p.c.label),
        )
        .select_from(s.join(p, served_text).outerjoin(f, feedback_join(reporter)))
        .group_by(s.c.model_name, s.c.model_version)
        .order_by(sa.func.min(s.c.predicted_at))
    )
    if since is not None:
        statement = statement.where(s.c.predicted_at >= since)
    if until is not None:
        statement = statement.where(s.c.predicted_at < until)
    with database.transaction() as connection:
        rows = connection.execute(statement).all()
    width = len(Counts.__dataclass_fields__)
    comparisons = []
    for name, version, registry_version, first, last, *figures in rows:
        values = [int(value) for value in figures]
        comparisons.append(
            ShadowComparison(
                name,
                version,
                registry_version,
                first,
                last,
                challenger=Counts(*values[:width]),
                served=Counts(*values[width : 2 * width]),
                agreeing=values[2 * width],
            )
        )
    return comparisons
