"""Table definitions of the prediction store (SQLAlchemy Core). Migrations create them; keep both in step.

Times are naive UTC datetimes: SQLite has no time zone type, and one convention for both databases keeps the
`since`/`until` comparisons of /statistics the same everywhere.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Named constraints, so that later migrations can alter them by name on both databases.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row per predicted text.
predictions = Table(
    "predictions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("text_index", Integer, nullable=False),  # position of the text in its request
    Column("label", String(8), nullable=False),
    Column("spam_probability", Float, nullable=False),
    Column("model_name", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("predicted_at", DateTime, nullable=False),  # UTC
    Column("text", Text, nullable=True),  # only with STORE_TEXTS=true
    Column("requested_by", String(64), nullable=True),  # API key name; NULL: no authentication (or before 0002)
    Column("registry_version", String(32), nullable=True),  # "3"; NULL: served from a directory (or before 0003)
    UniqueConstraint("request_id", "text_index"),
    Index(None, "predicted_at"),
)

# The true label of a prediction, as a client reported it; one row per prediction, the latest report wins.
feedback = Table(
    "feedback",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("text_index", Integer, primary_key=True),
    Column("label", String(8), nullable=False),
    Column("received_at", DateTime, nullable=False),  # UTC, of the latest report
    Column("reported_by", String(64), nullable=True),  # API key name of the latest report; NULL as requested_by
    Column("text", Text, nullable=True),  # the text the reporter sent (0004); NULL: none sent
    ForeignKeyConstraint(
        ["request_id", "text_index"],
        ["predictions.request_id", "predictions.text_index"],
        ondelete="CASCADE",  # retention: deleting old predictions deletes their feedback
    ),
)

# What a challenger (SHADOW_MODEL_URI) predicted for a text the served model answered: one row per text and shadow
# model version, written after the answer went out. Compared with `predictions` (and `feedback`) by /statistics.
shadow_predictions = Table(
    "shadow_predictions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("text_index", Integer, nullable=False),
    Column("model_name", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("registry_version", String(32), nullable=True),  # NULL: loaded from a directory
    Column("label", String(8), nullable=False),
    Column("spam_probability", Float, nullable=False),
    Column("predicted_at", DateTime, nullable=False),  # UTC
    UniqueConstraint("request_id", "text_index", "model_version"),
    ForeignKeyConstraint(
        ["request_id", "text_index"],
        ["predictions.request_id", "predictions.text_index"],
        ondelete="CASCADE",  # retention: deleting old predictions deletes their shadow rows
    ),
    Index(None, "predicted_at"),
)
