"""HTTP routes. Thin: validate, call the inference worker, log the request, shape the response."""

import json
import logging
import time
from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import choose_encoder

from spam_service.api.deps import ClassifierDep, InferenceDep, MetricsDep, RequestLogDep, SettingsDep
from spam_service.api.schemas import (
    ErrorResponse,
    HealthResponse,
    InferenceState,
    ModelInfo,
    PredictRequest,
    PredictResponse,
    ReadyResponse,
    RequestLogState,
    StatusResponse,
    TextPrediction,
    VaultState,
)
from spam_service.errors import InvalidInputError
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
) -> PredictResponse:
    """Classify each text as spam or ham."""
    check_limits(body.text, settings)
    request_id: str = request.state.request_id
    predictions = await inference.predict(body.text)
    latency_ms = round((time.perf_counter() - request.state.started) * 1000, 2)
    model = ModelInfo(name=classifier.name, version=classifier.version)
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
    )
