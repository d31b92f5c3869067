"""Alembic migrations of the prediction store, shipped inside the package and applied at start-up."""
