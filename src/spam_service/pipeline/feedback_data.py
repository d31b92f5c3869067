"""The feedback dataset (data/feedback/feedback.jsonl): texts whose true label a client reported through /feedback,
with their provenance, and how training turns them into weighted examples.

Its own row type, not `dataset.Example`: a feedback row carries who reported it and which model it corrected, so
one reporter's labels can be dropped at training time (`feedback.exclude_reporters`) while the dataset keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from spam_service.model.labels import LABELS
from spam_service.pipeline.dataset import Example
from spam_service.pipeline.params import PARAMS_FILE, load_params


@dataclass(frozen=True, slots=True)
class FeedbackParams:
    """params.yaml's `feedback:` section. A params file without one (older ones, the tests' small pipelines) gets
    these defaults, params.yaml's own values."""

    weight: float = 3.0  # loss weight of one feedback text relative to one collection message
    exclude_reporters: tuple[str, ...] = ()  # API key names whose labels training ignores

    @classmethod
    def load(cls, path: Path = PARAMS_FILE) -> FeedbackParams:
        try:
            section = load_params("feedback", path)
        except KeyError:
            return cls()
        weight = float(section.get("weight", cls.weight))
        if weight <= 0:
            raise ValueError(f"{path}: feedback.weight must be positive, not {weight}")
        return cls(weight=weight, exclude_reporters=tuple(sorted(section.get("exclude_reporters") or ())))


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    text: str
    label: str
    reporter: str | None  # API key name of the (latest) report; None: sent without authentication
    request_id: str
    text_index: int
    predicted_label: str
    registry_version: str | None
    model_version: str
    reported_at: str  # ISO 8601 UTC with microseconds, "...Z": sorts as time does

    @property
    def key(self) -> tuple[str, int]:
        """The prediction it labels: a newer report on the same prediction replaces the older one."""
        return (self.request_id, self.text_index)


def read_feedback(path: Path) -> list[FeedbackRow]:
    """The rows of a feedback dataset; none when the file does not exist (no feedback exported yet)."""
    if not path.is_file():
        return []
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = FeedbackRow(**json.loads(line))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a feedback row ({exc})") from None
            if row.label not in LABELS:
                raise ValueError(f"{path}:{number}: label must be one of {', '.join(LABELS)}, not {row.label!r}")
            rows.append(row)
    return rows


def write_feedback(path: Path, rows: Iterable[FeedbackRow]) -> None:
    """One JSON object per line, keys sorted, so that the same rows always give the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(asdict(row), ensure_ascii=False, sort_keys=True) + "\n")


def training_feedback(rows: Sequence[FeedbackRow], exclude_reporters: Collection[str]) -> list[FeedbackRow]:
    """The rows training uses: those of every reporter but the excluded API key names."""
    excluded = set(exclude_reporters)
    return [row for row in rows if row.reporter not in excluded]


def feedback_examples(rows: Sequence[FeedbackRow]) -> list[Example]:
    return [Example(text=row.text, label=row.label) for row in rows]


def weighted_examples(
    collection: Sequence[Example], feedback: Sequence[Example], weight: float
) -> tuple[list[Example], list[float]]:
    """The collection's examples (weight 1) followed by the feedback examples (weight `weight`), and their loss
    weights: a few reported texts must count against thousands of collection messages."""
    if weight <= 0:
        raise ValueError(f"feedback.weight must be positive, not {weight}")
    return [*collection, *feedback], [1.0] * len(collection) + [float(weight)] * len(feedback)
