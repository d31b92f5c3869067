"""`python -m spam_service` / `spam-service`: settings -> services -> uvicorn.

Every start-up problem (bad settings, the model, Vault, the request log, the prediction store's database or its
migration) ends the process with exit code 1 and one line that names the cause and what to check, not a traceback.
"""

import sys

from pydantic import ValidationError

from spam_service.errors import StartupError
from spam_service.observability.logging import configure_logging

# Inference threads run Python between engine calls (tokenizing, the TF-IDF baseline) and hold the GIL meanwhile;
# with the default 5 ms switch interval the event loop waited that long for it at every turn, and requests queued
# while cores idled. 0.5 ms: +30% throughput at 32 concurrent clients on 2 cores (README, Performance).
GIL_SWITCH_INTERVAL_S = 0.0005
# How long uvicorn lets open requests finish after SIGTERM before it cancels them and closes the services. The
# deployments' grace periods cover it plus the closes (runtime.py); tests/deploy/test_shutdown_budget.py checks.
GRACEFUL_SHUTDOWN_TIMEOUT_S = 30


def main() -> int:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    from spam_service.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors(include_url=False)
        )
        print(f"spam-service: invalid settings: {problems}", file=sys.stderr)
        return 1
    configure_logging(settings.log_level, settings.log_format)

    import uvicorn

    from spam_service.api import create_app
    from spam_service.runtime import build_services

    try:
        services = build_services(settings)
    except StartupError as exc:
        print(f"spam-service: cannot start: {exc}", file=sys.stderr)
        return 1
    app = create_app(services)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the logging configured above; uvicorn's loggers propagate to it
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_TIMEOUT_S,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
