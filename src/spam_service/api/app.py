"""The application factory: a FastAPI app around already-built services (`spam_service.runtime`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from spam_service import __version__
from spam_service.api.error_handlers import install_error_handlers
from spam_service.api.middleware import RequestContextMiddleware
from spam_service.api.page import page_router
from spam_service.api.routes import ROUTERS
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
    app.state.services = services
    install_error_handlers(app)
    routers = [*ROUTERS, page_router()]
    for router in routers:
        app.include_router(router)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=services.settings.max_body_bytes,
        metrics=services.metrics,
        static_routes=[
            path for router in routers for route in router.routes if "{" not in (path := getattr(route, "path", "{"))
        ],
    )
    return app
