"""Application factory. Collaborators are built in the lifespan unless the caller hands them in (tests do)."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from spam_service import __version__
from spam_service.api.errors import install_error_handlers
from spam_service.api.middleware import RequestContextMiddleware
from spam_service.api.page import page_router
from spam_service.api.routes import router
from spam_service.app_logging import flush_logs
from spam_service.classifier import SpamClassifier
from spam_service.hdfs_files import HdfsFiles
from spam_service.inference import MicroBatcher
from spam_service.metrics import ServiceMetrics
from spam_service.prediction_store import PredictionStore
from spam_service.request_log import FileRequestLogSink, HdfsRequestLogSink, RequestLogSink
from spam_service.settings import Settings
from spam_service.vault_secrets import HdfsLocation, VaultSession

_logger = logging.getLogger(__name__)


def load_classifier(settings: Settings) -> SpamClassifier:
    classifier = SpamClassifier.load(
        settings.model_dir,
        backend=settings.inference_backend,
        max_tokens=settings.max_tokens,
        batch_size=settings.inference_batch_size,
        spam_threshold=settings.spam_threshold,
        threads=settings.inference_threads,
        combine_baseline=settings.combine_baseline,
    )
    # The first passes allocate buffers and pick kernels per shape: pay for them before the first client does.
    classifier.predict(["warm-up", "warm-up: a longer text, so that a padded batch is run as well"])
    return classifier


def build_request_log(settings: Settings) -> tuple[RequestLogSink, VaultSession | None]:
    """The HDFS sink when Vault (VAULT_ADDR) or HDFS_HOST says where HDFS is; else the local file sink.

    Raises `StartupError` (VaultError) with a one-line message when Vault cannot say where HDFS is.
    """
    vault = None
    if settings.vault_addr:
        vault = VaultSession.from_settings(settings)
        vault.authenticate()
        location = vault.read_hdfs_location(settings.vault_kv_mount, settings.vault_hdfs_secret_path)
        _logger.info("vault: HDFS is at %s:%d", location.host, location.port)
    elif settings.hdfs_host:
        location = HdfsLocation(settings.hdfs_host, settings.hdfs_port)
    else:
        return FileRequestLogSink(settings.request_log_dir), None
    files = HdfsFiles(
        location.url(settings.hdfs_scheme),
        user=location.user or settings.hdfs_user,
        timeout=settings.hdfs_timeout,
        datanode_rewrites=settings.hdfs_datanode_rewrites,
    )
    sink = HdfsRequestLogSink(
        files,
        log_dir=settings.hdfs_log_dir,
        spool_dir=settings.spool_dir,
        flush_interval=settings.hdfs_flush_interval,
        flush_bytes=settings.hdfs_flush_bytes,
        spool_warn_bytes=settings.spool_warn_bytes,
    )
    return sink, vault


def build_prediction_store(settings: Settings) -> PredictionStore:
    """The store PREDICTION_STORE_URL names; no I/O until `start` (the lifespan calls it)."""
    return PredictionStore(
        settings.prediction_store_url.get_secret_value(),
        store_texts=settings.store_texts,
        flush_interval=settings.prediction_store_flush_interval,
        max_pending=settings.prediction_store_max_pending,
    )


def create_app(
    settings: Settings | None = None,
    *,
    classifier: SpamClassifier | None = None,
    request_log: RequestLogSink | None = None,
    vault: VaultSession | None = None,
    prediction_store: PredictionStore | None = None,
) -> FastAPI:
    """Build the app. `uvicorn spam_service.api.app:create_app --factory` reads settings from the environment."""
    settings = settings or Settings()
    metrics = ServiceMetrics()  # a registry per app: several apps in one process (tests) do not collide

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loaded = classifier or await asyncio.to_thread(load_classifier, settings)
        sink, vault_session = (
            (request_log, vault) if request_log else await asyncio.to_thread(build_request_log, settings)
        )
        store = prediction_store or build_prediction_store(settings)
        await asyncio.to_thread(store.start)  # migrates the schema; an unreachable database is retried later
        sink.start()
        if vault_session is not None:
            vault_session.start_renewal()
        inference = MicroBatcher(
            loaded,
            max_batch_texts=settings.inference_batch_size,
            max_wait_s=settings.batch_wait_ms / 1000,
            workers=settings.inference_workers,
            on_batch=metrics.observe_batch,
        )
        inference.start()
        metrics.set_model(name=loaded.name, version=loaded.version, backend=loaded.backend)
        metrics.watch_request_log(sink.status)
        app.state.settings = settings
        app.state.classifier = loaded
        app.state.inference = inference
        app.state.request_log = sink
        app.state.vault = vault_session
        app.state.prediction_store = store
        app.state.started = time.time()
        _logger.info(
            "ready: model %s version %s on %s, request log %s, prediction store %s",
            loaded.name,
            loaded.version,
            loaded.backend,
            sink.status().target,
            store.target,  # password masked
        )
        try:
            yield
        finally:
            await inference.close()
            await asyncio.to_thread(store.close)  # after inference: every answered prediction is queued
            await asyncio.to_thread(sink.close)
            if vault_session is not None:
                vault_session.stop()
            _logger.info("stopped; request log flushed")
            flush_logs()

    app = FastAPI(
        title="Spam classifier",
        version=__version__,
        description="Classifies short messages as spam or ham with a fine-tuned transformer.",
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    install_error_handlers(app)
    page = page_router()
    app.include_router(router)
    app.include_router(page)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        static_routes=[
            path for route in [*router.routes, *page.routes] if "{" not in (path := getattr(route, "path", "{"))
        ],
    )
    return app
