"""/predict: validate, classify through the micro-batcher, queue the prediction rows, log the request durably."""

import json
import logging
import time

from fastapi import APIRouter, Request

from spam_service.api.deps import (
    ClassifierDep,
    InferenceDep,
    MetricsDep,
    PredictionStoreDep,
    RequestLogDep,
    SettingsDep,
)
from spam_service.api.schemas import ERROR_RESPONSES, ModelInfo, PredictRequest, PredictResponse, TextPrediction
from spam_service.errors import InvalidInputError
from spam_service.model.labels import SPAM
from spam_service.request_log.records import prediction_record
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)

router = APIRouter()


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
        prediction_record(
            request_id=request_id,
            method=request.method,
            texts=body.text,
            predictions=predictions,
            model_name=model.name,
            model_version=model.version,
            latency_ms=latency_ms,
        )
    )
    labels = [p.label for p in predictions]
    metrics.observe_predictions(labels)
    # The request id comes with every log line; message texts only where LOG_TEXTS allows.
    _logger.info(
        "predict texts=%d spam=%d latency_ms=%.1f%s",
        len(labels),
        labels.count(SPAM),
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
