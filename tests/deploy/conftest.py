# The monitoring checks scrape a live app's /metrics: the API tests' fixtures build it.
from tests.api.conftest import make_app, trained_classifier  # noqa: F401
