"""The HTTP API: `create_app` builds the FastAPI application around services built by `spam_service.runtime`."""

from spam_service.api.app import create_app

__all__ = ["create_app"]
