"""Services for an app under test, built from parts the test chooses, the rest from the settings as in production."""

from spam_service.model.classifier import SpamClassifier
from spam_service.model.shadow import build_shadow_scorer
from spam_service.request_log import FileRequestLogSink, RequestLogSink
from spam_service.runtime import Services, build_prediction_store
from spam_service.settings import Settings


def services_around(
    classifier: SpamClassifier, settings: Settings, *, request_log: RequestLogSink | None = None
) -> Services:
    """Services serving `classifier`; the request log is a local file sink under REQUEST_LOG_DIR unless given, and
    SHADOW_MODEL_URI's challenger, when set, is loaded as in production."""
    prediction_store = build_prediction_store(settings)
    return Services(
        settings=settings,
        classifier=classifier,
        request_log=request_log or FileRequestLogSink(settings.request_log_dir),
        prediction_store=prediction_store,
        shadow=build_shadow_scorer(settings, prediction_store),
    )
