"""Prediction stores holding predictions and the feedback on them, written through the service's own store, as the
running service writes them, for the pipeline's `feedback` stage to export."""

from collections.abc import Sequence
from dataclasses import dataclass

from spam_service.prediction_store import PredictionStore

MODEL = {"model_name": "spam-minilm", "model_version": "6ff7d6b1a1d1", "registry_version": "6"}


@dataclass(frozen=True)
class Reported:
    """One predicted text and the label a client reported for it."""

    text: str
    predicted: str
    label: str
    reporter: str | None = "reviewer"
    stored_text: bool = True  # the service stored the text (STORE_TEXTS=true); else the reporter sends it
    sent_text: bool = False  # the reporter sends the text with the label
    request_id: str | None = None  # default: one request per text, named by its position


def write_feedback_store(url: str, reports: Sequence[Reported], *, request_prefix: str = "req") -> None:
    """Predict-and-report each text into the store at `url` (migrated to the newest schema), one request each."""
    with_texts = PredictionStore(url, store_texts=True)
    without_texts = PredictionStore(url, store_texts=False)
    with_texts.start()
    without_texts.start()
    try:
        for number, report in enumerate(reports):
            request_id = report.request_id or f"{request_prefix}-{number:03d}"
            store = with_texts if report.stored_text else without_texts
            store.add(
                request_id,
                predictions=[(report.predicted, 0.9 if report.predicted == "spam" else 0.1)],
                texts=[report.text],
                requested_by=report.reporter,
                **MODEL,
            )
            store.flush()
            store.record_feedback(
                request_id,
                0,
                report.label,
                reporter=report.reporter,
                text=report.text if report.sent_text else None,
            )
    finally:
        with_texts.close()
        without_texts.close()
