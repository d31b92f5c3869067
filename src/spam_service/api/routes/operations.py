"""Operations: liveness, readiness, status and Prometheus metrics."""

import time
from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.exposition import choose_encoder

from spam_service.api.deps import (
    AdminCaller,
    ClassifierDep,
    InferenceDep,
    MetricsDep,
    PredictionStoreDep,
    RequestLogDep,
    ServicesDep,
    SettingsDep,
    StartedAtDep,
    VaultDep,
)
from spam_service.api.schemas import (
    AUTH_RESPONSES,
    HealthResponse,
    InferenceState,
    ModelInfo,
    ModelSwapState,
    PredictionStoreState,
    ReadyResponse,
    RequestLogState,
    ServedModelInfo,
    ShadowState,
    StatusResponse,
    ThreadState,
    VaultState,
)
from spam_service.request_log.records import utc_timestamp

router = APIRouter()


@router.get("/health", response_model=HealthResponse, tags=["operations"])
async def health() -> HealthResponse:
    """Liveness: the process answers HTTP."""
    return HealthResponse(status="ok")


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format."},
        **AUTH_RESPONSES,
    },
    tags=["operations"],
)
async def prometheus_metrics(request: Request, caller: AdminCaller, service_metrics: MetricsDep) -> Response:
    """Prometheus metrics: requests, latency, predictions, inference batches, request log, model (OpenMetrics when
    the scraper asks for it)."""
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(service_metrics.registry), media_type=content_type)


@router.get("/ready", response_model=ReadyResponse, responses={503: {"model": ReadyResponse}}, tags=["operations"])
async def ready(services: ServicesDep) -> JSONResponse:
    """Readiness: the model is loaded, the request log stores lines durably and every background worker runs.

    HDFS being away does not make the service unready: lines wait in the local spool, and taking every replica
    out of a load balancer for it would turn a logging outage into a service outage. `/status` shows it."""
    is_ready = services.ready()
    classifier = services.classifier
    body = ReadyResponse(
        status="ready" if is_ready else "not_ready",
        model=ModelInfo(name=classifier.name, version=classifier.version, registry_version=classifier.registry_version),
        request_log=RequestLogState(**asdict(services.request_log.status())),
        threads=[ThreadState(**asdict(thread)) for thread in services.thread_statuses()],
    )
    return JSONResponse(body.model_dump(), status_code=200 if is_ready else 503)


@router.get("/status", response_model=StatusResponse, responses=AUTH_RESPONSES, tags=["operations"])
async def status(
    request: Request,
    caller: AdminCaller,
    services: ServicesDep,
    settings: SettingsDep,
    classifier: ClassifierDep,
    inference: InferenceDep,
    request_log: RequestLogDep,
    prediction_store: PredictionStoreDep,
    vault: VaultDep,
    started_at: StartedAtDep,
) -> StatusResponse:
    """Everything an operator checks first: model (where from, the latest swap) and engine (backend, batching),
    request log (HDFS connection, lines waiting, last error), Vault."""
    sink = request_log.status()
    swap = services.swapper.status()
    return StatusResponse(
        status="ready" if services.ready() else "not_ready",
        version=request.app.version,
        uptime_s=round(time.time() - (started_at or time.time()), 1),
        model=ServedModelInfo(
            name=classifier.name,
            version=classifier.version,
            registry_version=classifier.registry_version,
            uri=classifier.uri or settings.model_source,
        ),
        model_swap=ModelSwapState(
            **{**asdict(swap), "last_attempt_at": utc_timestamp(swap.last_attempt_at) if swap.last_attempt_at else None}
        ),
        inference=InferenceState(
            backend=classifier.backend,
            workers=inference.workers,
            threads=settings.inference_threads,
            max_batch_texts=inference.max_batch_texts,
            max_wait_ms=inference.max_wait_s * 1000,
            **asdict(inference.stats),
            queued_texts=inference.queued_texts,
            max_queued_texts=settings.max_queued_texts,
            refused_overloaded=inference.refused_overloaded,
            refused_deadline=inference.refused_deadline,
        ),
        request_log=RequestLogState(**asdict(sink)),
        vault=VaultState(**vault.status()) if vault is not None else None,
        prediction_store=PredictionStoreState(**asdict(prediction_store.status())),
        shadow=ShadowState.of(services.shadow.status()) if services.shadow is not None else None,
        threads=[ThreadState(**asdict(thread)) for thread in services.thread_statuses()],
    )
