"""Provenance: the API key that asked for a prediction and the one that reported its feedback.

Both columns are nullable and have no default: rows written before this revision, and rows written with
authentication off, keep NULL. Adding a nullable column is an ALTER TABLE on both databases (no table copy on
SQLite, which would delete the feedback rows through their ON DELETE CASCADE while `predictions` is recreated).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("requested_by", sa.String(64), nullable=True))
    op.add_column("feedback", sa.Column("reported_by", sa.String(64), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+): a batch copy of `predictions` would cascade-delete the feedback.
    op.drop_column("feedback", "reported_by")
    op.drop_column("predictions", "requested_by")
