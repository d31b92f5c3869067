"""Hadoop's FileSystem as the batch job sees it: the same client Spark reads and writes with, so a local path,
`hdfs://namenode:8020/...` and `webhdfs://namenode:9870/...` all work alike. A thin wrapper over Py4J calls; Java
exceptions become BatchError naming the path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from spam_service.batch.errors import BatchError
from spam_service.batch.session import spark_error

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

T = TypeVar("T")


def is_hidden(name: str) -> bool:
    """Names Spark's readers skip: `_SUCCESS`, `_metadata`, `.crc` files, `.tmp-...` leftovers."""
    return name.startswith(("_", "."))


class HadoopFiles:
    """Paths on whatever file system their URI names (the default, local, file system for a bare path)."""

    def __init__(self, spark: SparkSession) -> None:
        self._spark = spark
        self._jvm: Any = spark._jvm  # type: ignore[attr-defined]
        self._conf = spark._jsc.hadoopConfiguration()  # type: ignore[attr-defined]

    def _call(self, uri: str, doing: str, action: Callable[[Any, Any], T]) -> T:
        try:
            path = self._jvm.org.apache.hadoop.fs.Path(uri)
            return action(path.getFileSystem(self._conf), path)
        except BatchError:
            raise
        except Exception as exc:  # Py4JJavaError: an IOException from the file system, or a bad URI
            raise spark_error(exc, f"{doing} {uri}") from exc

    def exists(self, uri: str) -> bool:
        return self._call(uri, "checking", lambda fs, path: bool(fs.exists(path)))

    def is_directory(self, uri: str) -> bool:
        return self._call(uri, "checking", lambda fs, path: bool(fs.getFileStatus(path).isDirectory()))

    def first_file(self, uri: str) -> str | None:
        """`uri` itself when it is a file, else the first data file below it (depth first, hidden names skipped,
        partition directories like `date=2026-11-30/` entered); None when there is none."""

        def find(fs: Any, path: Any) -> str | None:
            status = fs.getFileStatus(path)
            if not status.isDirectory():
                return str(status.getPath().toString())
            pending = [path]
            while pending:
                children = sorted(fs.listStatus(pending.pop(0)), key=lambda s: str(s.getPath().getName()))
                for child in children:
                    name = str(child.getPath().getName())
                    if is_hidden(name):
                        continue
                    if not child.isDirectory():
                        return str(child.getPath().toString())
                    pending.append(child.getPath())
            return None

        return self._call(uri, "listing", find)

    def delete(self, uri: str) -> bool:
        return self._call(uri, "deleting", lambda fs, path: bool(fs.delete(path, True)))

    def rename(self, source: str, target: str) -> None:
        def move(fs: Any, path: Any) -> None:
            if not fs.rename(path, self._jvm.org.apache.hadoop.fs.Path(target)):
                raise BatchError(f"renaming {source} to {target} failed (the file system refused it)")

        self._call(source, "renaming", move)
