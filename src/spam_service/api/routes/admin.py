"""Administration: swapping the served model without a restart (POST /admin/model)."""

import asyncio
import functools

from fastapi import APIRouter

from spam_service.api.deps import AdminCaller, ServicesDep
from spam_service.api.schemas import (
    AUTH_RESPONSES,
    ERROR_RESPONSES,
    ErrorResponse,
    ModelSwapRequest,
    ModelSwapResponse,
    ServedModelInfo,
)
from spam_service.model.swap import ModelSummary
from spam_service.models.registry import REGISTERED_MODEL, REGISTRY_URI_PREFIX

router = APIRouter()


def _served(model: ModelSummary) -> ServedModelInfo:
    return ServedModelInfo(
        name=model.name, version=model.version, registry_version=model.registry_version, uri=model.uri
    )


@router.post(
    "/admin/model",
    response_model=ModelSwapResponse,
    responses={
        **AUTH_RESPONSES,
        400: ERROR_RESPONSES[400],
        404: {"model": ErrorResponse, "description": "No model at that directory, or no such registry version/alias."},
        409: {"model": ErrorResponse, "description": "Another swap is in progress: retry once it is done."},
        413: ERROR_RESPONSES[413],
        415: ERROR_RESPONSES[415],
        422: {
            "model": ErrorResponse,
            "description": "The body breaks a rule, or the model failed to load or mislabelled a canary text; the "
            "model serving keeps serving and `detail` says why.",
        },
        503: {"model": ErrorResponse, "description": "The model registry is unreachable: retry after `Retry-After`."},
    },
    tags=["operations"],
)
async def swap_model(body: ModelSwapRequest, caller: AdminCaller, services: ServicesDep) -> ModelSwapResponse:
    """Serve another model: load it beside the one serving, warm it, check it on canary texts, then swap (requests
    in flight finish on the model they started with). On failure the old model keeps serving."""
    uri = body.uri if body.uri is not None else f"{REGISTRY_URI_PREFIX}{REGISTERED_MODEL}/{body.version}"
    swap = functools.partial(services.swapper.swap, uri, requested_by=caller.name if caller else "-")
    # Loading takes seconds of CPU: on a thread, while the event loop keeps serving with the old model.
    result = await asyncio.to_thread(swap)
    return ModelSwapResponse(previous=_served(result.previous), current=_served(result.current), load_s=result.load_s)
