"""Reading the texts to score: Parquet, CSV (with a header line), JSON lines, or the service's request log, from a
local path or a Hadoop URI (`hdfs://`, `webhdfs://`), a file or a directory of them.

The request log (`spam_service.request_log.records`: one JSON line per /predict request with its list of texts and
predictions; feedback lines name their `event`) is exploded to one row per text: `request_id`, `text_index` (the
text's position in its request, the key /feedback and the prediction store use), `timestamp`, `text`, and what the
service answered then (`logged_label`, `logged_spam_probability`, `logged_model_version`). The HDFS sink's
`date=YYYY-MM-DD/` directories become a `date` column, as Spark discovers partitions.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spam_service.batch.errors import BatchUsageError
from spam_service.batch.filesystem import HadoopFiles
from spam_service.batch.session import spark_error

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FORMATS = ("auto", "parquet", "csv", "json", "request-log")
REQUEST_LOG = "request-log"
_EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
_COMPRESSIONS = (".gz", ".bz2", ".snappy", ".zst", ".lz4", ".deflate")
# The request log's lines with the fields read here (the others are ignored); an explicit schema spares Spark a
# pass over the whole log to infer one.
REQUEST_LOG_SCHEMA = (
    "timestamp STRING, request_id STRING, event STRING, texts ARRAY<STRING>, "
    "predictions ARRAY<STRUCT<label: STRING, spam_probability: DOUBLE>>, "
    "model STRUCT<name: STRING, version: STRING, registry_version: STRING>"
)


@dataclass(frozen=True)
class InputTexts:
    frame: DataFrame
    format: str  # the one read: parquet, csv, json or request-log
    text_column: str


def format_of(name: str) -> str | None:
    """The format a file name's extension says (`part-0.jsonl.gz` -> json), None when it says none."""
    base = posixpath.basename(name.rstrip("/")).lower()
    for compression in _COMPRESSIONS:
        base = base.removesuffix(compression)
    return _EXTENSIONS.get(posixpath.splitext(base)[1])


def read_input(spark: SparkSession, uri: str, *, text_column: str = "text", fmt: str = "auto") -> InputTexts:
    """The texts at `uri` as a DataFrame with a string column `text_column` (`text` for the request log).

    Raises BatchUsageError for a missing path, an unknown format, or a missing or non-string column."""
    if fmt not in FORMATS:
        raise BatchUsageError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    files = HadoopFiles(spark)
    if not files.exists(uri):
        raise BatchUsageError(f"--input {uri}: no such file or directory")
    first = files.first_file(uri)
    if first is None:
        raise BatchUsageError(f"--input {uri}: no data file there (hidden names such as _SUCCESS are skipped)")
    if fmt == "auto":
        fmt = format_of(first) or ""
        if not fmt:
            raise BatchUsageError(
                f"--input {uri}: cannot tell the format from {posixpath.basename(first)!r}: pass --format "
                "parquet, csv, json or request-log"
            )
        if fmt == "json" and _looks_like_request_log(spark, first):
            fmt = REQUEST_LOG
    try:
        if fmt == REQUEST_LOG:
            frame, text_column = explode_request_log(spark.read.schema(REQUEST_LOG_SCHEMA).json(uri)), "text"
        elif fmt == "parquet":
            frame = spark.read.parquet(uri)
        elif fmt == "csv":
            # Quoted fields may span lines (texts hold newlines); every column stays a string.
            frame = spark.read.options(header=True, multiLine=True, escape='"').csv(uri)
        else:
            frame = spark.read.json(uri)
        columns = dict(frame.dtypes)
    except Exception as exc:
        raise spark_error(exc, f"reading {uri}") from exc
    if text_column not in columns:
        raise BatchUsageError(
            f"--text-column {text_column}: {uri} has no such column (it has: {', '.join(sorted(columns)) or 'none'})"
        )
    if columns[text_column] != "string":
        raise BatchUsageError(f"--text-column {text_column}: a {columns[text_column]} column, not text (a string)")
    return InputTexts(frame, fmt, text_column)


def _looks_like_request_log(spark: SparkSession, first_file: str) -> bool:
    """Whether the first line of a JSON lines file is a /predict line of the request log."""
    rows = spark.read.text(first_file).limit(1).collect()
    if not rows:
        return False
    try:
        record = json.loads(rows[0][0])
    except ValueError:
        return False
    return isinstance(record, dict) and {"request_id", "texts", "predictions"} <= record.keys()


def explode_request_log(raw: DataFrame) -> DataFrame:
    """One row per text of each /predict line (feedback and other events dropped)."""
    from pyspark.sql import functions as F

    predict_lines = raw.where(F.col("event").isNull() & F.col("texts").isNotNull())
    partitions = [c for c in raw.columns if c not in {f.name for f in _request_log_fields()}]  # e.g. date=...
    exploded = predict_lines.select(
        "request_id",
        "timestamp",
        *partitions,
        F.col("model.version").alias("logged_model_version"),
        F.posexplode(F.arrays_zip("texts", "predictions")).alias("text_index", "item"),
    )
    return exploded.select(
        "request_id",
        F.col("text_index").cast("int").alias("text_index"),
        "timestamp",
        *partitions,
        F.col("item.texts").alias("text"),
        F.col("item.predictions.label").alias("logged_label"),
        F.col("item.predictions.spam_probability").alias("logged_spam_probability"),
        "logged_model_version",
    )


def _request_log_fields() -> list:
    from pyspark.sql.types import StructType

    return list(StructType.fromDDL(REQUEST_LOG_SCHEMA).fields)
