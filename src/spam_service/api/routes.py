"""HTTP routes. Thin: validate, call the inference worker, log the request, shape the response."""

import asyncio
import json
import logging
import re
import time
from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import choose_encoder

from spam_service.api.deps import (
    ClassifierDep,
    InferenceDep,
    MetricsDep,
    PredictionStoreDep,
    RequestLogDep,
    SettingsDep,
)
from spam_service.api.schemas import (
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    InferenceState,
    ModelInfo,
    ModelStatistics,
    PredictionStoreState,
    PredictRequest,
    PredictResponse,
    ReadyResponse,
    RequestLogState,
    StatisticsCounts,
    StatisticsResponse,
    StatusResponse,
    TextPrediction,
    VaultState,
)
from spam_service.errors import InvalidInputError
from spam_service.prediction_store import Counts
from spam_service.request_log import utc_timestamp
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)

router = APIRouter()

ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Body is not valid JSON."),
        (413, "Body larger than the configured limits allow."),
        (415, "Body is not sent as application/json."),
        (422, "JSON is valid but breaks a rule; `detail` says which and how to fix it."),
    )
}


def check_limits(texts: list[str], settings: Settings) -> None:
    if not texts:
        raise InvalidInputError('\'text\' is empty; send at least one message, e.g. {"text": ["hello"]}')
    if len(texts) > settings.max_texts_per_request:
        raise InvalidInputError(
            f"'text' has {len(texts)} messages; the limit is {settings.max_texts_per_request} per request "
            "(MAX_TEXTS_PER_REQUEST): split them over several requests"
        )
    for index, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            raise InvalidInputError(
                f"text[{index}] has {len(text)} characters; the limit is {settings.max_text_chars} "
                "(MAX_TEXT_CHARS): shorten it"
            )


async def predict(
    body: PredictRequest,
    request: Request,
    metrics: MetricsDep,
    settings: SettingsDep,
    classifier: ClassifierDep,
    inference: InferenceDep,
    request_log: RequestLogDep,
    prediction_store: PredictionStoreDep,
) -> PredictResponse:
    """Classify each text as spam or ham."""
    check_limits(body.text, settings)
    request_id: str = request.state.request_id
    predictions = await inference.predict(body.text)
    latency_ms = round((time.perf_counter() - request.state.started) * 1000, 2)
    model = ModelInfo(name=classifier.name, version=classifier.version)
    # Queued only (a background thread writes batches): queued before the answer, so feedback can follow at once.
    prediction_store.add(
        request_id,
        model_name=model.name,
        model_version=model.version,
        predictions=[(p.label, p.spam_probability) for p in predictions],
        texts=body.text,
    )
    # Awaited: the line is stored durably before the answer goes out (one fsync shared by concurrent requests).
    await request_log.append(
        {
            "timestamp": utc_timestamp(),
            "request_id": request_id,
            "method": request.method,
            "texts": body.text,
            "predictions": [
                {
                    "label": p.label,
                    "spam_probability": round(p.spam_probability, 6),
                    "transformer_probability": round(p.transformer_probability, 6),
                    "baseline_probability": None
                    if p.baseline_probability is None
                    else round(p.baseline_probability, 6),
                    "truncated": p.truncated,
                }
                for p in predictions
            ],
            "model": model.model_dump(),
            "latency_ms": latency_ms,
        }
    )
    labels = [p.label for p in predictions]
    metrics.observe_predictions(labels)
    # The request id comes with every log line; message texts only where LOG_TEXTS allows.
    _logger.info(
        "predict texts=%d spam=%d latency_ms=%.1f%s",
        len(labels),
        labels.count("spam"),
        latency_ms,
        f" messages={json.dumps(body.text, ensure_ascii=False)}" if settings.log_texts else "",
    )
    return PredictResponse(
        predictions=[
            TextPrediction(label=p.label, spam_probability=p.spam_probability, truncated=p.truncated, tokens=p.tokens)
            for p in predictions
        ],
        model=model,
        request_id=request_id,
    )


# GET with a JSON body is the original contract; POST is what most HTTP clients and proxies expect.
for method in ("GET", "POST"):
    router.add_api_route(
        "/predict",
        predict,
        methods=[method],
        response_model=PredictResponse,
        responses=ERROR_RESPONSES,
        summary=f"Classify texts ({method})",
        tags=["predict"],
    )


@router.get("/health", response_model=HealthResponse, tags=["operations"])
async def health() -> HealthResponse:
    """Liveness: the process answers HTTP."""
    return HealthResponse(status="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."}},
    tags=["operations"],
)
async def prometheus_metrics(request: Request, service_metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests, latency, predictions, inference batches, request log, model (OpenMetrics when
    the scraper asks for it)."""
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(service_metrics.registry), media_type=content_type)


@router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}}, tags=["operations"])
async def ready(classifier: ClassifierDep, request_log: RequestLogDep) -> JSONResponse:
    """Readiness: the model is loaded and the request log stores lines durably.

    HDFS being away does not make the service unready: lines wait in the local spool, and taking every replica
    out of a load balancer for it would turn a logging outage into a service outage. `/status` shows it."""
    sink = request_log.status()
    is_ready = sink.ready
    body = ReadyResponse(
        status="ready" if is_ready else "not_ready",
        model=ModelInfo(name=classifier.name, version=classifier.version),
        request_log=RequestLogState(**asdict(sink)),
    )
    return JSONResponse(body.model_dump(), status_code=200 if is_ready else 503)


@router.get("/status", response_model=StatusResponse, tags=["operations"])
async def status(
    request: Request,
    settings: SettingsDep,
    classifier: ClassifierDep,
    inference: InferenceDep,
    request_log: RequestLogDep,
    prediction_store: PredictionStoreDep,
) -> StatusResponse:
    """Everything an operator checks first: model and engine (backend, batching), request log (HDFS connection,
    lines waiting, last error), Vault."""
    sink = request_log.status()
    vault = request.app.state.vault
    return StatusResponse(
        status="ready" if sink.ready else "not_ready",
        version=request.app.version,
        uptime_s=round(time.time() - request.app.state.started, 1),
        model=ModelInfo(name=classifier.name, version=classifier.version),
        inference=InferenceState(
            backend=classifier.backend,
            workers=inference.workers,
            threads=settings.inference_threads,
            max_batch_texts=inference.max_batch_texts,
            max_wait_ms=inference.max_wait_s * 1000,
            **asdict(inference.stats),
        ),
        request_log=RequestLogState(**asdict(sink)),
        vault=VaultState(**vault.status()) if vault is not None else None,
        prediction_store=PredictionStoreState(**asdict(prediction_store.status())),
    )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    responses={
        **ERROR_RESPONSES,
        404: {"model": ErrorResponse, "description": "No predictions are stored for that request_id."},
        503: {"model": ErrorResponse, "description": "The prediction store's database is unreachable; retry."},
    },
    tags=["feedback"],
)
async def post_feedback(
    body: FeedbackRequest, prediction_store: PredictionStoreDep, request_log: RequestLogDep
) -> FeedbackResponse:
    """Report the true label of one predicted text; the latest report for a text wins."""
    result = await asyncio.to_thread(prediction_store.record_feedback, body.request_id, body.index, body.label)
    if result.changed:  # a repeated report changes nothing, so it adds no line either
        await request_log.append(
            {
                "event": "feedback",
                "timestamp": utc_timestamp(),
                "request_id": result.request_id,
                "index": result.index,
                "label": result.label,
                "predicted_label": result.predicted_label,
                "replaced_label": result.replaced,
                "model": {"name": result.model_name, "version": result.model_version},
            }
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
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


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
    responses={422: ERROR_RESPONSES[422], 503: {"model": ErrorResponse, "description": "Database unreachable."}},
    tags=["feedback"],
)
async def statistics(
    prediction_store: PredictionStoreDep,
    since: str | None = Query(None, description="ISO 8601; predictions made at or after it (no offset: UTC)."),
    until: str | None = Query(None, description="ISO 8601; predictions made before it (no offset: UTC)."),
) -> StatisticsResponse:
    """Predictions, spam share and agreement with feedback, per model version and in total."""
    start, end = parse_time("since", since), parse_time("until", until)
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"since ({_iso(start)}) is after until ({_iso(end)}); swap them")
    by_model = await asyncio.to_thread(prediction_store.statistics, start, end)
    total = sum((entry.counts for entry in by_model), Counts(0, 0, 0, 0, 0, 0, 0))
    return StatisticsResponse(
        since=_iso(start),
        until=_iso(end),
        total=StatisticsCounts(**_counts(total)),
        by_model=[
            ModelStatistics(
                model=ModelInfo(name=entry.model_name, version=entry.model_version),
                first_prediction=_iso(entry.first_prediction),  # type: ignore[arg-type]
                last_prediction=_iso(entry.last_prediction),  # type: ignore[arg-type]
                **_counts(entry.counts),
            )
            for entry in by_model
        ],
    )
