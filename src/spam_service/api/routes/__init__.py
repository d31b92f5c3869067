"""The API's routes, one module per concern, each with its own `router`."""

from fastapi import APIRouter

from spam_service.api.routes import feedback, operations, predict

ROUTERS: tuple[APIRouter, ...] = (predict.router, operations.router, feedback.router)
