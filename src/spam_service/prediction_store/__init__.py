"""The prediction store: every prediction (and the feedback on it) in SQLite or PostgreSQL, for statistics.

`schema.py` defines the tables, `migrations/` (Alembic, shipped in the package) creates them, `store.py` writes
predictions in batches off the request path and answers feedback and statistics.
"""

from spam_service.prediction_store.store import (
    Counts,
    FeedbackResult,
    ModelCounts,
    PredictionStore,
    StoreStatus,
    parse_store_url,
)

__all__ = ["Counts", "FeedbackResult", "ModelCounts", "PredictionStore", "StoreStatus", "parse_store_url"]
