"""The application factory: a FastAPI app around already-built services (`spam_service.runtime`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from spam_service import __version__
from spam_service.api.error_handlers import install_error_handlers
from spam_service.api.middleware import BodyLimits, RequestContextMiddleware
from spam_service.api.page import page_router
from spam_service.api.routes import ROUTERS, feedback_router, predict_router
from spam_service.runtime import Services


def create_app(services: Services) -> FastAPI:
    """Build the app. Its lifespan starts the services (opening any not yet open) and closes them at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="Spam classifier",
        version=__version__,
        description="Classifies short messages as spam or ham with a fine-tuned transformer.",
        lifespan=lifespan,
    )
    settings = services.settings
    app.state.services = services
    install_error_handlers(app)
    routers = [predict_router(settings), feedback_router(settings), *ROUTERS, page_router()]
    methods_by_path: dict[str, set[str]] = {}
    for router in routers:
        app.include_router(router)
        for route in router.routes:
            path = getattr(route, "path", "{")
            if "{" not in path:
                methods_by_path.setdefault(path, set()).update(getattr(route, "methods", None) or ())
    app.state.methods_by_path = {path: sorted(methods) for path, methods in methods_by_path.items()}  # for 405s
    app.add_middleware(
        RequestContextMiddleware,
        limits=BodyLimits(
            max_bytes=settings.max_body_bytes,
            timeout_s=settings.body_timeout_s,
            max_bytes_in_flight=settings.max_body_bytes_in_flight,
        ),
        metrics=services.metrics,
        static_routes=list(methods_by_path),
        # A full-size request would not fit the inference queue: refused before its body is read.
        shed=lambda path: services.batcher.shed(settings.max_texts_per_request) if path == "/predict" else None,
    )
    return app
