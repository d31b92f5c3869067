"""Starting Spark for the batch job, and turning its exceptions into the project's own.

Local mode (`local[*]`) unless Spark was started by `spark-submit`, whose `--master` then wins. Python workers run
the driver's interpreter (the venv), so they import the same `spam_service`, tokenizers and onnxruntime.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spam_service.batch.errors import BatchError, BatchUsageError
from spam_service.errors import first_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_logger = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"
JAVA_HINT = "install a Java runtime (17 or 21): `make system-packages` installs Debian's default-jre-headless"


@dataclass(frozen=True, slots=True)
class SparkOptions:
    master: str | None = None  # None: spark-submit's master, else DEFAULT_MASTER
    app_name: str = "spam-service-batch"
    progress_bar: bool = True
    shuffle_partitions: int | None = None
    ui: bool = True
    extra: tuple[tuple[str, str], ...] = ()  # further --conf KEY=VALUE pairs


@dataclass(frozen=True, slots=True)
class StartedSpark:
    session: SparkSession
    startup_s: float


def start_spark(options: SparkOptions) -> StartedSpark:
    """A SparkSession (getOrCreate: a session already running in this process is reused, its settings kept).

    Raises BatchError when Spark cannot start (no Java, the JVM exits)."""
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise BatchError(f"Spark needs Java and none was found: {JAVA_HINT}")
    # Workers must run this interpreter: a bare `python` on PATH would lack the project and its packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    started = time.perf_counter()
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BatchError(f"pyspark is not installed ({exc}): pip install -r requirements-dev.txt") from exc
    builder = SparkSession.builder.appName(options.app_name)
    # spark-submit starts the JVM first, with its --master, and hands the gateway to Python: never override it.
    if options.master or not launched_by_spark_submit():
        builder = builder.master(options.master or DEFAULT_MASTER)
    settings = {
        "spark.ui.showConsoleProgress": str(options.progress_bar).lower(),
        "spark.ui.enabled": str(options.ui).lower(),
        # Python workers are kept between tasks: each loads the model once, not once per task.
        "spark.python.worker.reuse": "true",
        # Spark's INFO and WARN lines from start-up on: the progress bar and our summary (or error) line stay legible.
        "spark.log.level": "ERROR",
        **({"spark.sql.shuffle.partitions": str(options.shuffle_partitions)} if options.shuffle_partitions else {}),
        **dict(options.extra),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: Java missing or broken, a bad --conf
        raise BatchError(f"Spark did not start: {first_line(exc)}") from exc
    return StartedSpark(session, time.perf_counter() - started)


def launched_by_spark_submit() -> bool:
    """Whether this Python process was started by spark-submit (its JVM's gateway is in the environment)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def spark_error(exc: BaseException, doing: str) -> BatchError:
    """One of Spark's exceptions as ours, in one line: `doing` says what was being done ("reading X")."""
    from pyspark.errors import AnalysisException, PythonException

    if isinstance(exc, BatchError):
        return exc
    if isinstance(exc, AnalysisException):
        condition = _condition(exc)
        if condition in ("PATH_NOT_FOUND", "UNABLE_TO_INFER_SCHEMA"):
            return BatchUsageError(f"{doing}: {_message(exc)}")
        return BatchError(f"{doing}: {_message(exc)}")
    if isinstance(exc, PythonException):
        # A worker's traceback: its last line is the exception that ended the task.
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        return BatchError(f"{doing}: a Python worker failed: {lines[-1].strip() if lines else type(exc).__name__}")
    java = _java_cause(exc)
    if java is not None:
        return BatchError(f"{doing}: {java}")
    return BatchError(f"{doing}: {first_line(exc)}")


def _condition(exc: Any) -> str | None:
    try:
        return exc.getCondition()
    except AttributeError:  # pyspark before 4.0
        return exc.getErrorClass()


def _message(exc: BaseException) -> str:
    """The first line of Spark's message, without the `[CONDITION]` prefix and the SQLSTATE suffix."""
    line = first_line(exc, limit=400)
    if line.startswith("[") and "] " in line:
        line = line.split("] ", 1)[1]
    return line.split(" SQLSTATE:")[0].strip()


def _java_cause(exc: BaseException) -> str | None:
    """`JavaClass: message` of the innermost cause of a Py4J error, the one that says what went wrong."""
    java = getattr(exc, "java_exception", None)
    if java is None:
        return None
    try:
        while java.getCause() is not None and java.getCause() != java:
            java = java.getCause()
        message = java.getMessage()
        name = java.getClass().getSimpleName()
    except Exception:  # the JVM may be gone: fall back to the Python side's text
        return None
    text = f"{name}: {message}" if message else name
    # Task failures carry a Python worker's traceback: its last line names the exception.
    if "Traceback (most recent call last)" in text:
        lines = [line for line in text.strip().splitlines() if line.strip()]
        return f"a Python worker failed: {lines[-1].strip()}"
    return first_line(Exception(text), limit=400)
