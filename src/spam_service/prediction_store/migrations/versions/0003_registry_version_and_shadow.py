"""Registry version of each prediction, and the challenger's shadow predictions.

`predictions.registry_version` is nullable without a default: rows written before this revision, and rows of a
model served from a directory, keep NULL. As in 0002 it is an ALTER TABLE ADD COLUMN on both databases: a batch
copy of `predictions` on SQLite would cascade-delete the feedback. `shadow_predictions` is a new table (its
foreign key to `predictions` cascades like the feedback's, so retention deletes both).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("predictions", sa.Column("registry_version", sa.String(32), nullable=True))
    op.create_table(
        "shadow_predictions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("text_index", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("registry_version", sa.String(32), nullable=True),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("spam_probability", sa.Float(), nullable=False),
        sa.Column("predicted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shadow_predictions"),
        sa.UniqueConstraint(
            "request_id",
            "text_index",
            "model_version",
            name="uq_shadow_predictions_request_id_text_index_model_version",
        ),
        sa.ForeignKeyConstraint(
            ["request_id", "text_index"],
            ["predictions.request_id", "predictions.text_index"],
            name="fk_shadow_predictions_request_id_text_index_predictions",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_shadow_predictions_predicted_at", "shadow_predictions", ["predicted_at"])


def downgrade() -> None:
    op.drop_index("ix_shadow_predictions_predicted_at", table_name="shadow_predictions")
    op.drop_table("shadow_predictions")
    # Native DROP COLUMN (SQLite 3.35+): a batch copy of `predictions` would cascade-delete the feedback.
    op.drop_column("predictions", "registry_version")
