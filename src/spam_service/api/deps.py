"""Dependencies read what the lifespan put on `app.state`; routes declare them with these aliases.

They are `async def` although they never await: FastAPI runs a plain `def` dependency on its thread pool, a thread
hop per dependency per request that cost ~15% of the event loop's time under load."""

from typing import Annotated

from fastapi import Depends, Request

from spam_service.classifier import SpamClassifier
from spam_service.inference import MicroBatcher
from spam_service.metrics import ServiceMetrics
from spam_service.prediction_store import PredictionStore
from spam_service.request_log import RequestLogSink
from spam_service.settings import Settings


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_classifier(request: Request) -> SpamClassifier:
    return request.app.state.classifier


async def get_inference(request: Request) -> MicroBatcher:
    return request.app.state.inference


async def get_request_log(request: Request) -> RequestLogSink:
    return request.app.state.request_log


async def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


async def get_prediction_store(request: Request) -> PredictionStore:
    return request.app.state.prediction_store


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClassifierDep = Annotated[SpamClassifier, Depends(get_classifier)]
InferenceDep = Annotated[MicroBatcher, Depends(get_inference)]
RequestLogDep = Annotated[RequestLogSink, Depends(get_request_log)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
PredictionStoreDep = Annotated[PredictionStore, Depends(get_prediction_store)]
