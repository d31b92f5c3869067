"""The HTTP API: `create_app` builds the FastAPI application around injected collaborators."""
