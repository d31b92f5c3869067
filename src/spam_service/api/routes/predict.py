"""/predict: validate, classify through the micro-batcher, queue the prediction rows, log the request durably."""

import json
import logging
import time

from fastapi import APIRouter, Request

from spam_service.api.deps import (
    ClassifierDep,
    InferenceDep,
    MetricsDep,
    PredictCaller,
    PredictionStoreDep,
    RequestLogDep,
    ServicesDep,
    check_rate,
)
from spam_service.api.schemas import (
    ERROR_RESPONSES,
    ModelInfo,
    PredictResponse,
    TextPrediction,
    predict_request_model,
)
from spam_service.model.labels import SPAM
from spam_service.request_log.records import prediction_record
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)


def predict_router(settings: Settings) -> APIRouter:
    """/predict, validating bodies against the configured limits (MAX_TEXTS_PER_REQUEST, MAX_TEXT_CHARS)."""
    body_model = predict_request_model(settings.max_texts_per_request, settings.max_text_chars)

    async def predict(
        body: body_model,  # type: ignore[valid-type]
        caller: PredictCaller,
        services: ServicesDep,
        request: Request,
        metrics: MetricsDep,
        classifier: ClassifierDep,
        inference: InferenceDep,
        request_log: RequestLogDep,
        prediction_store: PredictionStoreDep,
    ) -> PredictResponse:
        """Classify each text as spam or ham."""
        check_rate(services, caller, "predict", cost=len(body.text))
        request_id: str = request.state.request_id
        started: float = request.state.started
        # `classifier` is the model serving when the request started: it answers, and it is the one named in the
        # answer, the log line and the stored rows, even if a swap replaces it meanwhile.
        # Past the deadline the client gets a 503 and its texts leave the queue unclassified.
        predictions = await inference.predict(
            body.text, deadline=started + settings.request_timeout_s, classifier=classifier
        )
        latency_ms = round((time.perf_counter() - started) * 1000, 2)
        model = ModelInfo(
            name=classifier.name, version=classifier.version, registry_version=classifier.registry_version
        )
        # Awaited: the line is stored durably before the answer goes out (one fsync shared by concurrent requests), or
        # the client gets a 503 and nothing of the request is kept.
        await request_log.append(
            prediction_record(
                request_id=request_id,
                method=request.method,
                texts=body.text,
                predictions=predictions,
                model_name=model.name,
                model_version=model.version,
                registry_version=model.registry_version,
                latency_ms=latency_ms,
                requested_by=caller.name if caller else None,
            )
        )
        # Queued only (a background thread writes batches): queued before the answer, so feedback can follow at once.
        prediction_store.add(
            request_id,
            model_name=model.name,
            model_version=model.version,
            registry_version=model.registry_version,
            predictions=[(p.label, p.spam_probability) for p in predictions],
            texts=body.text,
            requested_by=caller.name if caller else None,
        )
        if services.shadow is not None:  # O(1): maybe scored by the challenger later, off this path
            services.shadow.offer(request_id, body.text)
        labels = [p.label for p in predictions]
        metrics.observe_predictions(labels, model.version)
        # The request id comes with every log line; message texts only where LOG_TEXTS allows.
        _logger.info(
            "predict texts=%d spam=%d latency_ms=%.1f model=%s registry_version=%s key=%s%s",
            len(labels),
            labels.count(SPAM),
            latency_ms,
            model.version,
            model.registry_version or "-",
            caller.name if caller else "-",
            f" messages={json.dumps(body.text, ensure_ascii=False)}" if settings.log_texts else "",
        )
        return PredictResponse(
            predictions=[
                TextPrediction(
                    label=p.label, spam_probability=p.spam_probability, truncated=p.truncated, tokens=p.tokens
                )
                for p in predictions
            ],
            model=model,
            request_id=request_id,
        )

    router = APIRouter()
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
    return router
