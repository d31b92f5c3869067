"""Dependencies read the services the app was built with (`app.state.services`); routes declare them with these
aliases.

They are `async def` although they never await: FastAPI runs a plain `def` dependency on its thread pool, a thread
hop per dependency per request that cost ~15% of the event loop's time under load."""

from typing import Annotated

from fastapi import Depends, Request, params

from spam_service.auth import Caller, Role
from spam_service.auth.authenticator import PermissionDeniedError
from spam_service.auth.rate_limits import RouteClass
from spam_service.errors import RateLimitedError
from spam_service.model.batching import MicroBatcher
from spam_service.model.classifier import SpamClassifier
from spam_service.observability.prometheus import ServiceMetrics
from spam_service.prediction_store import PredictionStore
from spam_service.request_log import RequestLogSink
from spam_service.runtime import Services
from spam_service.settings import Settings
from spam_service.vault import VaultSession


def _services(request: Request) -> Services:
    return request.app.state.services


async def get_services(request: Request) -> Services:
    return _services(request)


async def get_settings(request: Request) -> Settings:
    return _services(request).settings


async def get_classifier(request: Request) -> SpamClassifier:
    return _services(request).classifier


async def get_inference(request: Request) -> MicroBatcher:
    return _services(request).batcher


async def get_request_log(request: Request) -> RequestLogSink:
    return _services(request).request_log


async def get_metrics(request: Request) -> ServiceMetrics:
    return _services(request).metrics


async def get_prediction_store(request: Request) -> PredictionStore:
    return _services(request).prediction_store


async def get_vault(request: Request) -> VaultSession | None:
    return _services(request).vault


async def get_started_at(request: Request) -> float | None:
    return _services(request).started_at


ServicesDep = Annotated[Services, Depends(get_services)]


def presented_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer <key>`, else `X-API-Key`."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


def check_rate(services: Services, caller: Caller | None, kind: RouteClass, cost: float = 1) -> None:
    """Take `cost` from the caller's rate limit for `kind`, or raise RateLimitedError (429). No key, no limit."""
    if caller is None:
        return
    decision = services.rate_limits.check(caller.name, kind, cost)
    if not decision.allowed:
        services.metrics.observe_rate_limited(caller.name, kind)
        raise RateLimitedError(decision.detail or "rate limit reached", dict(decision.headers))


def require(*roles: Role, rate: RouteClass | None = None) -> params.Depends:
    """A dependency admitting callers whose key has one of `roles` (admin always), within their `rate` limit when
    given (/predict takes its own, by texts, once the body is read); the caller (None when the service requires no
    key) is also left in `request.state.caller`."""
    allowed = frozenset({*roles, "admin"})

    async def caller(request: Request) -> Caller | None:
        services = _services(request)
        found = services.authenticator.authenticate(presented_key(request))
        if found is not None and found.role not in allowed:
            raise PermissionDeniedError(
                f"the API key {found.name!r} has the role {found.role!r}; {request.method} {request.url.path} needs "
                f"{' or '.join(sorted(allowed))}: ask an operator for such a key"
            )
        if rate is not None:
            check_rate(services, found, rate)
        request.state.caller = found
        return found

    return Depends(caller)


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClassifierDep = Annotated[SpamClassifier, Depends(get_classifier)]
InferenceDep = Annotated[MicroBatcher, Depends(get_inference)]
RequestLogDep = Annotated[RequestLogSink, Depends(get_request_log)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
PredictionStoreDep = Annotated[PredictionStore, Depends(get_prediction_store)]
VaultDep = Annotated[VaultSession | None, Depends(get_vault)]
StartedAtDep = Annotated[float | None, Depends(get_started_at)]
PredictCaller = Annotated[Caller | None, require("predict")]
FeedbackCaller = Annotated[Caller | None, require("predict", "feedback", rate="feedback")]
AdminCaller = Annotated[Caller | None, require(rate="admin")]
