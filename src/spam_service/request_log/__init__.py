"""Request-log sinks: every /predict request and its predictions, one JSON line each, never lost.

`FileRequestLogSink` (the embedded default) appends to local files; `HdfsRequestLogSink` spools locally and ships
to HDFS over WebHDFS. Both store a line durably before its request is answered (see `journal.py`).
"""

from spam_service.request_log.base import RequestLogSink, SinkStatus
from spam_service.request_log.file_sink import FileRequestLogSink
from spam_service.request_log.hdfs_sink import HdfsRequestLogSink

__all__ = [
    "FileRequestLogSink",
    "HdfsRequestLogSink",
    "RequestLogSink",
    "SinkStatus",
]
