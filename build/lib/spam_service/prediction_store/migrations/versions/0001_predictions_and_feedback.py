"""Predictions and feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("text_index", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("spam_probability", sa.Float(), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("predicted_at", sa.DateTime(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.UniqueConstraint("request_id", "text_index", name="uq_predictions_request_id_text_index"),
    )
    op.create_index("ix_predictions_predicted_at", "predictions", ["predicted_at"])
    op.create_table(
        "feedback",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("text_index", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "text_index", name="pk_feedback"),
        sa.ForeignKeyConstraint(
            ["request_id", "text_index"],
            ["predictions.request_id", "predictions.text_index"],
            name="fk_feedback_request_id_text_index_predictions",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_index("ix_predictions_predicted_at", table_name="predictions")
    op.drop_table("predictions")
