"""The prediction store: every prediction (and the feedback on it) in SQLite or PostgreSQL, for statistics.

`schema.py` defines the tables, `migrations/` (Alembic, shipped in the package) creates them, `database.py`
connects and migrates, `writer.py` writes predictions in batches off the request path, and `queries.py` holds the
SQL of feedback and statistics.
"""

from spam_service.prediction_store.database import parse_store_url
from spam_service.prediction_store.queries import Counts, FeedbackResult, ModelCounts, ShadowComparison
from spam_service.prediction_store.writer import PredictionStore, StoreStatus

__all__ = [
    "Counts",
    "FeedbackResult",
    "ModelCounts",
    "PredictionStore",
    "ShadowComparison",
    "StoreStatus",
    "parse_store_url",
]
