"""Application factory. Collaborators are built in the lifespan unless the caller hands them in (tests do)."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from spam_service import __version__
from spam_service.api.errors import install_error_handlers
from spam_service.api.middleware import RequestContextMiddleware
from spam_service.api.routes import router
from spam_service.classifier import SpamClassifier
from spam_service.inference import InferenceWorker
from spam_service.request_log import FileRequestLogSink, RequestLogSink
from spam_service.settings import Settings

_logger = logging.getLogger(__name__)


def load_classifier(settings: Settings) -> SpamClassifier:
    classifier = SpamClassifier.load(
        settings.model_dir,
        max_tokens=settings.max_tokens,
        batch_size=settings.inference_batch_size,
        spam_threshold=settings.spam_threshold,
        torch_threads=settings.torch_threads,
    )
    classifier.predict(["warm-up: the first forward pass allocates buffers"])
    return classifier


def build_request_log(settings: Settings) -> RequestLogSink:
    return FileRequestLogSink(settings.request_log_dir)


def create_app(
    settings: Settings | None = None,
    *,
    classifier: SpamClassifier | None = None,
    request_log: RequestLogSink | None = None,
) -> FastAPI:
    """Build the app. `uvicorn spam_service.api.app:create_app --factory` reads settings from the environment."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = classifier or await asyncio.to_thread(load_classifier, settings)
        sink = request_log or build_request_log(settings)
        sink.start()
        inference = InferenceWorker(loaded)
        app.state.settings = settings
        app.state.classifier = loaded
        app.state.inference = inference
        app.state.request_log = sink
        _logger.info("ready: model %s version %s, request log %s", loaded.name, loaded.version, sink.status().target)
        try:
            yield
        finally:
            inference.close()
            sink.close()
            _logger.info("stopped; request log flushed")

    app = FastAPI(
        title="Spam classifier",
        version=__version__,
        description="Classifies short messages as spam or ham with a fine-tuned transformer.",
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    app.include_router(router)
    return app
