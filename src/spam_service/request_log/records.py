"""The request log's lines: one builder per event, the JSON encoding and the timestamps they carry.

Every line is one JSON object. A /predict line has no `event` key (the original format); others name theirs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from spam_service.model.classifier import Prediction


def prediction_record(
    *,
    request_id: str,
    method: str,
    texts: Sequence[str],
    predictions: Sequence[Prediction],
    model_name: str,
    model_version: str,
    latency_ms: float,
    requested_by: str | None = None,
    registry_version: str | None = None,
) -> dict[str, Any]:
    """A /predict request: its texts, each prediction with both models' probabilities, the model (and its registry
    version, None when served from a directory), the latency, and the name of the API key that asked (None without
    keys)."""
    return {
        "timestamp": utc_timestamp(),
        "request_id": request_id,
        "method": method,
        "requested_by": requested_by,
        "texts": list(texts),
        "predictions": [
            {
                "label": p.label,
                "spam_probability": round(p.spam_probability, 6),
                "transformer_probability": round(p.transformer_probability, 6),
                "baseline_probability": None if p.baseline_probability is None else round(p.baseline_probability, 6),
                "truncated": p.truncated,
            }
            for p in predictions
        ],
        "model": {"name": model_name, "version": model_version, "registry_version": registry_version},
        "latency_ms": latency_ms,
    }


def feedback_record(
    *,
    request_id: str,
    index: int,
    label: str,
    predicted_label: str,
    replaced_label: str | None,
    model_name: str,
    model_version: str,
    registry_version: str | None = None,
    reported_by: str | None = None,
) -> dict[str, Any]:
    """A true label reported for one predicted text (only when it changed what the store held), and who reported
    it (the API key's name; None without keys)."""
    return {
        "event": "feedback",
        "timestamp": utc_timestamp(),
        "request_id": request_id,
        "reported_by": reported_by,
        "index": index,
        "label": label,
        "predicted_label": predicted_label,
        "replaced_label": replaced_label,
        "model": {"name": model_name, "version": model_version, "registry_version": registry_version},
    }


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One JSON line, UTF-8, newline-terminated; newlines inside texts are escaped by JSON."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")


def utc_timestamp(epoch_seconds: float | None = None) -> str:
    moment = datetime.fromtimestamp(epoch_seconds if epoch_seconds is not None else time.time(), UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_day(epoch_seconds: float | None = None) -> str:
    return datetime.fromtimestamp(epoch_seconds if epoch_seconds is not None else time.time(), UTC).strftime("%Y-%m-%d")
