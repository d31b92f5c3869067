"""The text a reporter sent with its feedback, for the training data the pipeline's `feedback` stage exports.

`feedback.text` is nullable without a default: reports before this revision, and reports sent without a text,
keep NULL (the prediction's own text, stored with STORE_TEXTS=true, is used when there is one). An ALTER TABLE
ADD COLUMN on both databases, as in 0002 and 0003.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("feedback", sa.Column("text", sa.Text(), nullable=True))


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35+); nothing references feedback, but one method for both databases.
    op.drop_column("feedback", "text")
