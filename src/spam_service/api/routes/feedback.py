"""Feedback on predictions and the statistics it feeds, both read from the prediction store. /feedback's router is
built per app (the limit on its `text` is a setting)."""

import asyncio
import functools
import logging
import re
from datetime import UTC, datetime

from fastapi import APIRouter, Query

from spam_service.api.deps import AdminCaller, FeedbackCaller, PredictionStoreDep, RequestLogDep
from spam_service.api.schemas import (
    AUTH_RESPONSES,
    ERROR_RESPONSES,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    ModelInfo,
    ModelStatistics,
    ShadowStatistics,
    StatisticsCounts,
    StatisticsResponse,
    feedback_request_model,
)
from spam_service.auth import Caller
from spam_service.errors import InvalidInputError
from spam_service.prediction_store import Counts, PredictionStore
from spam_service.request_log import RequestLogSink
from spam_service.request_log.records import feedback_record
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)

router = APIRouter()


def feedback_router(settings: Settings) -> APIRouter:
    """/feedback, validating an optional `text` against /predict's limit (MAX_TEXT_CHARS)."""
    body_model = feedback_request_model(settings.max_text_chars)

    async def post_feedback(
        body: body_model,  # type: ignore[valid-type]
        caller: FeedbackCaller,
        prediction_store: PredictionStoreDep,
        request_log: RequestLogDep,
    ) -> FeedbackResponse:
        """Report the true label of one predicted text (optionally with the text); the latest report wins."""
        return await record_feedback(body, caller, prediction_store, request_log)

    router = APIRouter()
    router.add_api_route(
        "/feedback",
        post_feedback,
        methods=["POST"],
        response_model=FeedbackResponse,
        responses={
            **ERROR_RESPONSES,
            404: {"model": ErrorResponse, "description": "No prediction is stored for that request_id and index."},
            503: {"model": ErrorResponse, "description": "The prediction store's database is unreachable; retry."},
        },
        tags=["feedback"],
    )
    return router


async def record_feedback(
    body: FeedbackRequest, caller: Caller | None, prediction_store: PredictionStore, request_log: RequestLogSink
) -> FeedbackResponse:
    # A predict key gives feedback on its own predictions only; another key's request_id answers like an unknown one.
    result = await asyncio.to_thread(
        functools.partial(
            prediction_store.record_feedback,
            body.request_id,
            body.index,
            body.label,
            reporter=caller.name if caller else None,
            any_prediction=caller is None or caller.role != "predict",
            text=body.text,
        )
    )
    if result.changed:  # a repeated report changes nothing, so it adds no line either
        await request_log.append(
            feedback_record(
                request_id=result.request_id,
                index=result.index,
                label=result.label,
                predicted_label=result.predicted_label,
                replaced_label=result.replaced,
                model_name=result.model_name,
                model_version=result.model_version,
                registry_version=result.registry_version,
                reported_by=caller.name if caller else None,
            )
        )
    _logger.info(
        "feedback request_id=%s index=%d label=%s predicted=%s replaced=%s",
        result.request_id,
        result.index,
        result.label,
        result.predicted_label,
        result.replaced,
    )
    return FeedbackResponse(
        request_id=result.request_id,
        index=result.index,
        label=result.label,  # type: ignore[arg-type]
        predicted_label=result.predicted_label,  # type: ignore[arg-type]
        correct=result.correct,
        replaced=result.replaced is not None,
    )


def parse_time(name: str, value: str | None) -> datetime | None:
    """ISO 8601 -> naive UTC (the store's convention); a value without an offset is taken as UTC."""
    if value is None:
        return None
    # An unencoded "+01:00" arrives as " 01:00" (a query string's + is a space): read it as meant.
    value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"{name}={value!r} is not an ISO 8601 date-time; send e.g. {name}=2026-11-23T00:00:00Z or {name}=2026-11-23"
        ) from None
    if moment.tzinfo is None:
        return moment
    try:
        return moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first representable UTC moment
        return datetime.min if moment.year == 1 else datetime.max


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="milliseconds") + "Z"


def _counts(counts: Counts) -> dict:
    return {
        "predictions": counts.predictions,
        "spam_predicted": counts.spam_predicted,
        "spam_share": counts.spam_share,
        "with_feedback": counts.with_feedback,
        "correct": counts.correct,
        "correctness_rate": counts.correctness_rate,
        "spam_precision": counts.spam_precision,
        "spam_recall": counts.spam_recall,
    }


@router.get(
    "/statistics",
    response_model=StatisticsResponse,
    responses={
        **AUTH_RESPONSES,
        422: ERROR_RESPONSES[422],
        503: {"model": ErrorResponse, "description": "Database unreachable."},
    },
    tags=["feedback"],
)
async def statistics(
    caller: AdminCaller,
    prediction_store: PredictionStoreDep,
    since: str | None = Query(
        None,
        description="ISO 8601 date-time or date; predictions made at or after it (no offset: UTC).",
        json_schema_extra={"format": "date-time"},
    ),
    until: str | None = Query(
        None,
        description="ISO 8601 date-time or date; predictions made before it (no offset: UTC).",
        json_schema_extra={"format": "date-time"},
    ),
    reporter: str | None = Query(
        None, max_length=64, description="Only feedback given by this API key (its name) counts in the figures."
    ),
) -> StatisticsResponse:
    """Predictions, spam share and agreement with feedback, per model version and in total; and each shadow-scoring
    challenger against the served model on the texts it scored."""
    start, end = parse_time("since", since), parse_time("until", until)
    # since after until is an empty window (zero counts), not an error: both are valid date-times.
    by_model = await asyncio.to_thread(functools.partial(prediction_store.statistics, start, end, reporter=reporter))
    shadow = await asyncio.to_thread(
        functools.partial(prediction_store.shadow_statistics, start, end, reporter=reporter)
    )
    total = sum((entry.counts for entry in by_model), Counts(0, 0, 0, 0, 0, 0, 0))
    return StatisticsResponse(
        since=_iso(start),
        until=_iso(end),
        total=StatisticsCounts(**_counts(total)),
        by_model=[
            ModelStatistics(
                model=ModelInfo(
                    name=entry.model_name, version=entry.model_version, registry_version=entry.registry_version
                ),
                first_prediction=_iso(entry.first_prediction),  # type: ignore[arg-type]
                last_prediction=_iso(entry.last_prediction),  # type: ignore[arg-type]
                **_counts(entry.counts),
            )
            for entry in by_model
        ],
        shadow=[
            ShadowStatistics(
                model=ModelInfo(
                    name=entry.model_name, version=entry.model_version, registry_version=entry.registry_version
                ),
                first_prediction=_iso(entry.first_prediction),  # type: ignore[arg-type]
                last_prediction=_iso(entry.last_prediction),  # type: ignore[arg-type]
                agreeing=entry.agreeing,
                agreement=entry.agreement,
                challenger=StatisticsCounts(**_counts(entry.challenger)),
                served=StatisticsCounts(**_counts(entry.served)),
            )
            for entry in shadow
        ],
    )
