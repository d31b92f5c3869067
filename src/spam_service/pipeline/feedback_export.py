"""Stage `feedback`: export the texts labelled through /feedback from the prediction store into the versioned dataset
data/feedback/ (feedback.jsonl and summary.json), for `train` and `baseline` to learn from.

The store is PREDICTION_STORE_URL's (default: the service's), read only: this stage never migrates or creates it,
and a missing SQLite file means no feedback yet. A row's text is the predicted text (STORE_TEXTS=true), else the one
the reporter sent; feedback without either is skipped. The dataset accumulates: rows exported before are kept (a
newer report on the same prediction replaces them), so feedback outlives the store's retention. Texts of the
validation and test splits and of the probe are dropped (no evaluation message may leak into training), and each
message (`dataset.dedup_key`) appears once, its latest report winning.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spam_service.pipeline.dataset import dedup_key, read_collection
from spam_service.pipeline.feedback_data import FeedbackRow, read_feedback, write_feedback
from spam_service.pipeline.paths import FEEDBACK_DATASET, FEEDBACK_SUMMARY, PREPARED_DIR, PROBE_PATH, split_path

_logger = logging.getLogger(__name__)

EVALUATION_SPLITS = ("validation", "test")
NO_REPORTER = "(unauthenticated)"  # summary key of reports sent without an API key


class StoreReadError(Exception):
    """The prediction store cannot be read; the message names the masked URL and the cause."""


@dataclass
class StoreFeedback:
    rows: list[FeedbackRow] = field(default_factory=list)
    skipped_without_text: int = 0
    found: bool = True  # False: no store, or one without tables yet


def store_url_from_environment() -> str:
    """PREDICTION_STORE_URL as the service reads it, else the service's default."""
    from spam_service.settings import DEFAULT_PREDICTION_STORE_URL

    return os.environ.get("PREDICTION_STORE_URL") or DEFAULT_PREDICTION_STORE_URL


def _shown(url: str) -> str:
    """The URL with its password masked; a placeholder when it does not even parse (it may hold a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL, not shown)"


def _iso(moment: Any) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def read_store_feedback(url: str) -> StoreFeedback:
    """Every feedback row of the store joined to its prediction. Reads only: no migration, no file created.

    Raises StoreReadError (bad URL, unreachable or unreadable database)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from spam_service.prediction_store.database import Database, describe_error
    from spam_service.prediction_store.schema import feedback, predictions

    try:
        database = Database(url)
    except ValueError as exc:
        raise StoreReadError(f"PREDICTION_STORE_URL {_shown(url)} is unusable: {exc}") from None
    if database.kind == "sqlite":
        path = database.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            raise StoreReadError(f"{database.target}: name an SQLite file, the one the service writes")
        if not Path(path).expanduser().is_file():
            _logger.info("feedback: no prediction store at %s yet: nothing new to export", database.target)
            return StoreFeedback(found=False)
    engine = database.create_engine()
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection)
            if not {"predictions", "feedback"} <= set(tables.get_table_names()):
                _logger.info("feedback: %s has no feedback table yet: nothing new to export", database.target)
                return StoreFeedback(found=False)
            # A store not yet migrated to 0004 has no feedback.text: the predicted texts alone.
            has_sent_text = "text" in {column["name"] for column in tables.get_columns("feedback")}
            f, p = feedback, predictions
            sent_text = f.c.text if has_sent_text else sa.null()
            statement = sa.select(
                f.c.request_id, f.c.text_index, f.c.label, f.c.reported_by, f.c.received_at,
                p.c.text.label("predicted_text"), sent_text.label("sent_text"),
                p.c.label.label("predicted_label"), p.c.registry_version, p.c.model_version,
            ).select_from(
                f.join(p, (f.c.request_id == p.c.request_id) & (f.c.text_index == p.c.text_index))
            )  # fmt: skip
            result = connection.execute(statement).all()
    except DBAPIError as exc:
        raise StoreReadError(f"cannot read the prediction store {database.target}: {describe_error(exc)}") from exc
    finally:
        engine.dispose()
    exported = StoreFeedback()
    for row in result:
        text = row.predicted_text if row.predicted_text is not None else row.sent_text
        if text is None:
            exported.skipped_without_text += 1
            continue
        exported.rows.append(
            FeedbackRow(
                text=text,
                label=row.label,
                reporter=row.reported_by,
                request_id=row.request_id,
                text_index=row.text_index,
                predicted_label=row.predicted_label,
                registry_version=row.registry_version,
                model_version=row.model_version,
                reported_at=_iso(row.received_at),
            )
        )
    return exported


def evaluation_keys(prepared_dir: Path = PREPARED_DIR, probe: Path = PROBE_PATH) -> set[str]:
    """The dedup keys of every message the pipeline evaluates on: validation, test and the probe."""
    texts = []
    for name in EVALUATION_SPLITS:
        with split_path(name, prepared_dir).open(encoding="utf-8") as handle:
            # The text alone: whatever else a split's rows carry (their source, ...) does not matter here.
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    texts.extend(e.text for e in read_collection(probe))
    return {dedup_key(text) for text in texts}


@dataclass
class MergeCounts:
    dropped_evaluation_texts: int = 0
    duplicates_merged: int = 0
    conflicting_labels: int = 0  # duplicates labelled differently by different reporters (the latest kept)


def _latest_first(row: FeedbackRow) -> tuple[str, str, int]:
    return (row.reported_at, row.request_id, -row.text_index)


def merge_feedback(
    existing: Iterable[FeedbackRow], new: Iterable[FeedbackRow], evaluation: set[str]
) -> tuple[list[FeedbackRow], MergeCounts]:
    """The dataset after adding `new` rows to `existing` ones: one row per prediction (the newer report), no
    evaluation text, one row per message (the latest report); sorted by request_id and text index."""
    by_prediction: dict[tuple[str, int], FeedbackRow] = {}
    for row in [*existing, *new]:  # new after existing: on equal times the store's row wins
        kept = by_prediction.get(row.key)
        if kept is None or row.reported_at >= kept.reported_at:
            by_prediction[row.key] = row
    counts = MergeCounts()
    by_message: dict[str, FeedbackRow] = {}
    for row in sorted(by_prediction.values(), key=_latest_first):
        key = dedup_key(row.text)
        if key in evaluation:
            counts.dropped_evaluation_texts += 1
            continue
        earlier = by_message.get(key)
        if earlier is not None:
            counts.duplicates_merged += 1
            if earlier.label != row.label and earlier.reporter != row.reporter:
                counts.conflicting_labels += 1
        by_message[key] = row  # sorted oldest first: the latest report stays
    return sorted(by_message.values(), key=lambda row: row.key), counts


def summarize(rows: Sequence[FeedbackRow], store: StoreFeedback, counts: MergeCounts) -> dict[str, Any]:
    return {
        "exported": len(rows),
        "by_label": dict(sorted(Counter(row.label for row in rows).items())),
        "by_reporter": dict(sorted(Counter(row.reporter or NO_REPORTER for row in rows).items())),
        "store_rows_read": len(store.rows),
        "skipped_without_text": store.skipped_without_text,
        "dropped_evaluation_texts": counts.dropped_evaluation_texts,
        "duplicates_merged": counts.duplicates_merged,
        "conflicting_labels": counts.conflicting_labels,
    }


def export_feedback(
    url: str,
    dataset: Path = FEEDBACK_DATASET,
    summary_path: Path = FEEDBACK_SUMMARY,
    *,
    prepared_dir: Path = PREPARED_DIR,
    probe: Path = PROBE_PATH,
) -> dict[str, Any]:
    """Add the store's feedback to the dataset at `dataset`; write the summary; return it."""
    store = read_store_feedback(url)
    rows, counts = merge_feedback(read_feedback(dataset), store.rows, evaluation_keys(prepared_dir, probe))
    write_feedback(dataset, rows)
    summary = summarize(rows, store, counts)
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        summary = export_feedback(store_url_from_environment())
    except StoreReadError as exc:
        raise SystemExit(f"feedback: {exc}") from exc
    _logger.info(
        "feedback: %d texts in %s (%s); %d read from the store, %d without text, %d evaluation texts dropped",
        summary["exported"],
        FEEDBACK_DATASET,
        ", ".join(f"{label} {n}" for label, n in summary["by_label"].items()) or "none",
        summary["store_rows_read"],
        summary["skipped_without_text"],
        summary["dropped_evaluation_texts"],
    )


if __name__ == "__main__":
    main()
