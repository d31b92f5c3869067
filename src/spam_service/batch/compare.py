"""A challenger against the champion on the same texts: agreement, label flips each way (with examples), and,
where the true label is known, spam precision and recall of both: the evidence for a promotion.

True labels come from feedback (`--feedback`: the prediction store's URL, or a JSON lines / Parquet export such as
data/feedback/feedback.jsonl, with `request_id`, `text_index` and `label`), joined on the input's `request_id`
and `text_index` (the request log has both), or from a column of the input itself (`--label-column`, for a
labelled data set such as data/prepared/test.jsonl).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from spam_service.batch.errors import BatchUsageError
from spam_service.batch.inputs import InputTexts, format_of
from spam_service.batch.scoring import ModelPlan, score_frame
from spam_service.batch.session import spark_error
from spam_service.model.labels import HAM, LABELS, SPAM

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

KEYS = ("request_id", "text_index")
STORE_URL_PREFIXES = ("sqlite:", "postgresql:", "postgresql+")
CHAMPION, CHALLENGER = "champion", "challenger"


def read_feedback(spark: SparkSession, uri: str) -> DataFrame:
    """(request_id, text_index, truth) of every reported label at `uri`: a prediction store URL or a file."""
    from pyspark.sql import functions as F

    if uri.startswith(STORE_URL_PREFIXES):
        rows = _store_feedback(uri)
        return spark.createDataFrame(rows, "request_id STRING, text_index INT, truth STRING")
    fmt = format_of(uri)
    if fmt not in ("json", "parquet"):
        raise BatchUsageError(f"--feedback {uri}: expected a prediction store URL, or a .jsonl or .parquet file")
    try:
        frame = spark.read.json(uri) if fmt == "json" else spark.read.parquet(uri)
        columns = set(frame.columns)
    except Exception as exc:
        raise spark_error(exc, f"reading --feedback {uri}") from exc
    missing = sorted({*KEYS, "label"} - columns)
    if missing:
        raise BatchUsageError(f"--feedback {uri}: no column {', '.join(missing)} (a feedback export has them)")
    return frame.select(
        "request_id", F.col("text_index").cast("int").alias("text_index"), F.lower("label").alias("truth")
    )


def _store_feedback(url: str) -> list[tuple[str, int, str]]:
    """The store's feedback table, read only (no migration; a store without one has no feedback)."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from spam_service.prediction_store.database import Database, describe_error
    from spam_service.prediction_store.schema import feedback

    try:
        database = Database(url)
    except ValueError as exc:
        raise BatchUsageError(f"--feedback: not a usable prediction store URL ({exc})") from None
    engine = database.create_engine()
    try:
        with engine.connect() as connection:
            if "feedback" not in sa.inspect(connection).get_table_names():
                raise BatchUsageError(f"--feedback {database.target}: no feedback table (not a prediction store?)")
            statement = sa.select(feedback.c.request_id, feedback.c.text_index, feedback.c.label)
            return [(r.request_id, r.text_index, r.label) for r in connection.execute(statement)]
    except DBAPIError as exc:
        raise BatchUsageError(f"--feedback {database.target}: cannot read it ({describe_error(exc)})") from exc
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class Metrics:
    labelled: int
    accuracy: float | None
    spam_precision: float | None
    spam_recall: float | None


def metrics(counts: dict[tuple[str, str], int]) -> Metrics:
    """From counts of (predicted, truth) pairs."""
    labelled = sum(counts.values())
    true_spam = counts.get((SPAM, SPAM), 0)
    predicted_spam = true_spam + counts.get((SPAM, HAM), 0)
    actual_spam = true_spam + counts.get((HAM, SPAM), 0)
    correct = true_spam + counts.get((HAM, HAM), 0)
    return Metrics(
        labelled=labelled,
        accuracy=round(correct / labelled, 4) if labelled else None,
        spam_precision=round(true_spam / predicted_spam, 4) if predicted_spam else None,
        spam_recall=round(true_spam / actual_spam, 4) if actual_spam else None,
    )


def compare_models(
    spark: SparkSession,
    texts: InputTexts,
    champion: ModelPlan,
    challenger: ModelPlan,
    *,
    feedback: DataFrame | None = None,
    label_column: str | None = None,
    examples: int = 5,
) -> dict[str, Any]:
    """The comparison report (JSON-ready). Scores both models in one pass over the input."""
    from pyspark.sql import functions as F

    frame, text = texts.frame, texts.text_column
    columns = set(frame.columns)
    if feedback is not None and not set(KEYS) <= columns:
        raise BatchUsageError("--feedback needs request_id and text_index in the input (a request log has them)")
    if label_column is not None and label_column not in columns:
        raise BatchUsageError(f"--label-column {label_column}: the input has no such column")
    keep = [c for c in (*KEYS, text, label_column) if c is not None and c in columns]
    keep = list(dict.fromkeys(keep))
    scored = score_frame(frame, text, [(f"{CHAMPION}_", champion), (f"{CHALLENGER}_", challenger)], keep)
    if feedback is not None:
        scored = scored.join(feedback.dropDuplicates(list(KEYS)), list(KEYS), "left")
    elif label_column is not None:
        scored = scored.withColumn("truth", F.lower(F.trim(F.col(label_column))))
    else:
        scored = scored.withColumn("truth", F.lit(None).cast("string"))
    champion_label, challenger_label = f"{CHAMPION}_predicted_label", f"{CHALLENGER}_predicted_label"
    scored = scored.where(F.col(champion_label).isNotNull()).persist()
    try:
        grouped = scored.groupBy(champion_label, challenger_label, "truth").count().collect()
        flips = {
            f"{a}_to_{b}": _examples(scored, text, champion_label, challenger_label, a, b, examples)
            for a, b in ((HAM, SPAM), (SPAM, HAM))
        }
    except BatchUsageError:
        raise
    except Exception as exc:
        raise spark_error(exc, "comparing the models") from exc
    finally:
        scored.unpersist()
    total = sum(row["count"] for row in grouped)
    agreeing = sum(row["count"] for row in grouped if row[champion_label] == row[challenger_label])
    by_model: dict[str, dict[tuple[str, str], int]] = {CHAMPION: {}, CHALLENGER: {}}
    for row in grouped:
        if row["truth"] in LABELS:
            for name, column in ((CHAMPION, champion_label), (CHALLENGER, challenger_label)):
                key = (row[column], row["truth"])
                by_model[name][key] = by_model[name].get(key, 0) + row["count"]
    for name, flip in flips.items():
        a, b = name.split("_to_")
        flip["count"] = sum(r["count"] for r in grouped if (r[champion_label], r[challenger_label]) == (a, b))
    return {
        "texts": total,
        "agreement": round(agreeing / total, 6) if total else None,
        "flips": flips,
        "truth": "feedback" if feedback is not None else ("column " + label_column if label_column else None),
        "models": {
            name: {**_describe(plan), "metrics": asdict(metrics(by_model[name]))}
            for name, plan in ((CHAMPION, champion), (CHALLENGER, challenger))
        },
    }


def _examples(
    scored: DataFrame, text: str, champion_label: str, challenger_label: str, was: str, becomes: str, limit: int
) -> dict[str, Any]:
    from pyspark.sql import functions as F

    flipped = scored.where((F.col(champion_label) == was) & (F.col(challenger_label) == becomes))
    wanted = [c for c in (*KEYS, text) if c in scored.columns]
    wanted += [f"{CHAMPION}_spam_probability", f"{CHALLENGER}_spam_probability", "truth"]
    rows = flipped.select(*wanted).limit(limit).collect() if limit > 0 else []
    return {"examples": [row.asDict() for row in rows]}


def _describe(plan: ModelPlan) -> dict[str, Any]:
    return {
        "uri": plan.uri,
        "name": plan.name,
        "version": plan.version,
        "registry_version": plan.registry_version,
        "backend": plan.backend,
        "spam_threshold": plan.spam_threshold,
    }
