"""`python -m spam_service` / `spam-service`: settings -> services -> uvicorn.

Every start-up problem (bad settings, the model, Vault, the request log, the prediction store's database or its
migration) ends the process with exit code 1 and one line that names the cause and what to check, not a traceback.
"""

import gc
import sys

from pydantic import ValidationError

from spam_service.errors import StartupError
from spam_service.observability.logging import configure_logging

# Inference threads run Python between engine calls (tokenizing, the TF-IDF baseline) and hold the GIL meanwhile;
# with the default 5 ms switch interval the event loop waited that long for it at every turn, and requests queued
# while cores idled. 0.5 ms: +30% throughput at 32 concurrent clients on 2 cores (README, Performance).
GIL_SWITCH_INTERVAL_S = 0.0005


USAGE = """usage: python -m spam_service            serve (settings from the environment; README, Configuration)
       python -m spam_service keys ...   create, list or revoke API keys (keys --help)"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] != "keys":  # never fall through to serving on an argument meant for something else
        print(USAGE, file=sys.stderr)
        return 0 if argv[0] in ("-h", "--help") else 2
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
    if argv:
        from spam_service.auth.cli import main as keys_main
        from spam_service.runtime import api_key_store
        from spam_service.vault import VaultSession

        def store():
            vault = None
            if settings.vault_api_keys_path:
                vault = VaultSession.from_settings(settings)
                vault.authenticate()
            return api_key_store(settings, vault)

        return keys_main(argv[1:], store)
    configure_logging(settings.log_level, settings.log_format)

    import uvicorn

    from spam_service.api import create_app, server_config
    from spam_service.api.server import check_tls_files
    from spam_service.runtime import build_services

    try:
        check_tls_files(settings)  # before the model loads: a wrong certificate path fails at once
        services = build_services(settings)
    except StartupError as exc:
        print(f"spam-service: cannot start: {exc}", file=sys.stderr)
        return 1
    app = create_app(services)
    # Everything built so far (the model, tokenizer, baseline: millions of objects) lives as long as the process:
    # out of the collector's sight, a full collection no longer walks it and stalls the event loop (a 250 ms
    # pause under load before this).
    gc.freeze()
    uvicorn.Server(server_config(app, settings)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
