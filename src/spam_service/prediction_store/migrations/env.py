"""Alembic environment: the service hands in a connection (online) or a URL (offline, `--sql`); no alembic.ini."""

from alembic import context

from spam_service.prediction_store.schema import metadata

config = context.config

if context.is_offline_mode():
    context.configure(url=config.attributes["url"], target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    context.configure(connection=config.attributes["connection"], target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
