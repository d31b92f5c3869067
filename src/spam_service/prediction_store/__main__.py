"""`python -m spam_service.prediction_store upgrade|sql|current`: the store's migrations without the service.

The service migrates to the newest schema at start-up by itself; this is for operators who migrate before a
roll-out (`upgrade`), review the DDL first (`sql` prints it for an empty database, applying nothing), or check
where a database stands (`current`). The database is PREDICTION_STORE_URL's, as the service reads it.
"""

import argparse
import logging
import sys

from alembic import command
from alembic.runtime.migration import MigrationContext

from spam_service.prediction_store.database import alembic_config, head_revision
from spam_service.prediction_store.writer import PredictionStore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spam_service.prediction_store", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["upgrade", "sql", "current"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from spam_service.settings import Settings

    store = PredictionStore(Settings().prediction_store_url.get_secret_value())
    if args.action == "sql":
        command.upgrade(alembic_config(url=store.database.url), "head", sql=True)
        return 0
    if args.action == "upgrade":
        store.start()
        store.close()
        if not store.status().schema_ready:
            print(f"{store.target}: cannot migrate: {store.status().last_error}", file=sys.stderr)
            return 1
        print(f"{store.target}: schema at {head_revision()}")
        return 0
    engine = store.database.create_engine()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    print(f"{store.target}: schema at {current or 'none (empty database)'}; newest is {head_revision()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
