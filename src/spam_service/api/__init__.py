"""The HTTP API: `create_app` builds the FastAPI application around services built by `spam_service.runtime`;
`server_config` is the uvicorn configuration it is served with (connection limits included)."""

from spam_service.api.app import create_app
from spam_service.api.server import server_config

__all__ = ["create_app", "server_config"]
