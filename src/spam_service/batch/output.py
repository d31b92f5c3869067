"""Writing the scored rows as Parquet without ever leaving a partial result at the output path.

Spark writes to `<output>.tmp-<uuid>` beside it (same directory, so same file system), the rows are counted from the
written files' footers, and one rename commits; any failure deletes the temporary directory. An existing output is
refused unless `overwrite`, which deletes it just before the rename (a reader then sees the old result, nothing, or
the new one; never a mix).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spam_service.batch.errors import BatchUsageError
from spam_service.batch.filesystem import HadoopFiles
from spam_service.batch.session import spark_error

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True, slots=True)
class Committed:
    path: str
    rows: int
    seconds: float  # writing (that is, scoring) and committing


def temporary_path(output: str) -> str:
    return f"{output.rstrip('/')}.tmp-{uuid.uuid4().hex}"


def commit_parquet(
    spark: SparkSession,
    frame: DataFrame,
    output: str,
    *,
    partition_by: Sequence[str] = (),
    overwrite: bool = False,
) -> Committed:
    """Write `frame` as Parquet at `output` (partitioned by `partition_by` columns), all or nothing.

    Raises BatchUsageError when `output` exists (without `overwrite`), BatchError when writing fails."""
    files = HadoopFiles(spark)
    if not overwrite and files.exists(output):
        raise BatchUsageError(f"--output {output} exists already: choose another path, or pass --overwrite")
    missing = sorted(set(partition_by) - set(frame.columns))
    if missing:
        raise BatchUsageError(f"--partition-by {', '.join(missing)}: no such column in the scored rows")
    temporary = temporary_path(output)
    started = time.perf_counter()
    try:
        writer = frame.write.mode("errorifexists")
        if partition_by:
            writer = writer.partitionBy(*partition_by)
        writer.parquet(temporary)
        rows = spark.read.parquet(temporary).count()
        if overwrite and files.exists(output):
            files.delete(output)
        files.rename(temporary, output)
    except BaseException as exc:  # KeyboardInterrupt too: no temporary directory is left behind
        with contextlib.suppress(Exception):  # the error that matters is the one being raised
            files.delete(temporary)
        if isinstance(exc, Exception):
            raise spark_error(exc, f"writing {output}") from exc
        raise
    return Committed(output, rows, time.perf_counter() - started)
