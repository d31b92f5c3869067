"""The API's routes, one module per concern. /predict's and /feedback's routers are built per app (their body limits
are settings)."""

from fastapi import APIRouter

from spam_service.api.routes import admin, feedback, operations
from spam_service.api.routes.feedback import feedback_router
from spam_service.api.routes.predict import predict_router

ROUTERS: tuple[APIRouter, ...] = (operations.router, feedback.router, admin.router)

__all__ = ["ROUTERS", "feedback_router", "predict_router"]
