import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from spam_service.settings import DEFAULT_MODEL_DIR, Settings, available_cpus


def test_defaults_serve_the_exported_model_on_port_8000(monkeypatch):
    for name in ("PORT", "MODEL_DIR", "MAX_TEXTS_PER_REQUEST", "MAX_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.port == 8000 and settings.host == "127.0.0.1"
    assert settings.model_dir == DEFAULT_MODEL_DIR
    assert settings.max_texts_per_request == 64 and settings.max_tokens == 256


def test_environment_overrides_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("MAX_TEXTS_PER_REQUEST", "5")
    monkeypatch.setenv("REQUEST_LOG_DIR", str(tmp_path))
    settings = Settings(_env_file=None)
    assert (settings.port, settings.max_texts_per_request, settings.request_log_dir) == (9001, 5, tmp_path)


@pytest.mark.parametrize("workers", [1, 2, 64])
def test_engine_threads_default_to_the_cpus_divided_among_the_workers(monkeypatch, workers):
    monkeypatch.delenv("INFERENCE_THREADS", raising=False)
    monkeypatch.setenv("INFERENCE_WORKERS", str(workers))
    assert Settings(_env_file=None).inference_threads == max(1, available_cpus() // workers)
    monkeypatch.setenv("INFERENCE_THREADS", "3")
    assert Settings(_env_file=None).inference_threads == 3


def test_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.delenv("MAX_TEXT_CHARS", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("MAX_TEXT_CHARS=123\n")
    assert Settings(_env_file=env_file).max_text_chars == 123


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "0"),
        ("PORT", "http"),
        ("SPAM_THRESHOLD", "1.5"),
        ("MAX_TEXTS_PER_REQUEST", "0"),
        ("LOG_LEVEL", "loud"),
        ("SHADOW_SAMPLE_RATE", "1.5"),
        ("SHADOW_SAMPLE_RATE", "-0.1"),
        ("SHADOW_MAX_QUEUED_TEXTS", "0"),
    ],
)
def test_invalid_values_are_refused_with_the_setting_named(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings(_env_file=None)


def test_body_limit_allows_every_text_at_its_character_limit():
    settings = Settings(_env_file=None, max_texts_per_request=2, max_text_chars=10)
    worst_case = len('{"text": [' + ", ".join(['"' + "\\ud83d\\ude00" * 10 + '"'] * 2) + "]}")
    assert settings.max_body_bytes >= worst_case


def test_readme_documents_every_setting():
    from tests.support import REPO_ROOT

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    undocumented = [name.upper() for name in Settings.model_fields if f"| `{name.upper()}` |" not in readme]
    assert not undocumented, f"add these settings to the README's configuration table: {undocumented}"


def test_the_prediction_store_defaults_to_an_sqlite_file_under_data_without_texts(monkeypatch):
    for name in ("PREDICTION_STORE_URL", "STORE_TEXTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.prediction_store_url.get_secret_value() == "sqlite:///data/predictions.sqlite3"
    assert settings.store_texts is False


@pytest.mark.parametrize(
    "url", ["mysql://app:hunter2@db/predictions", "not a url hunter2", "postgresql+asyncpg://app:hunter2@db/x"]
)
def test_an_unusable_prediction_store_url_is_refused_without_echoing_it(monkeypatch, url):
    monkeypatch.setenv("PREDICTION_STORE_URL", url)
    with pytest.raises(ValidationError, match="prediction_store_url") as refused:
        Settings(_env_file=None)
    assert "hunter2" not in str(refused.value)


def test_the_prediction_store_url_is_a_secret(monkeypatch):
    monkeypatch.setenv("PREDICTION_STORE_URL", "postgresql+psycopg://app:hunter2@db:5432/predictions")
    settings = Settings(_env_file=None)
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"max_texts_per_request": 64, "max_queued_texts": 63}, "MAX_QUEUED_TEXTS (63) is below MAX_TEXTS_PER_REQUEST"),
        ({"max_body_bytes_in_flight": 1000}, "MAX_BODY_BYTES_IN_FLIGHT (1000) is below the largest valid body"),
    ],
)
def test_limits_that_could_never_admit_a_full_request_are_refused_at_start_up(values, named):
    with pytest.raises(ValidationError, match=re.escape(named)):
        Settings(**values)


@pytest.mark.parametrize(("given", "missing"), [("tls_cert_file", "TLS_KEY_FILE"), ("tls_key_file", "TLS_CERT_FILE")])
def test_one_tls_file_without_the_other_is_refused_with_the_missing_one_named(given, missing, tmp_path):
    with pytest.raises(ValidationError, match=f"without {missing}: HTTPS needs both"):
        Settings(_env_file=None, **{given: tmp_path / "file.pem"})


def test_shadow_scoring_is_off_by_default_and_samples_a_tenth_when_on(monkeypatch):
    for name in ("SHADOW_MODEL_URI", "SHADOW_SAMPLE_RATE", "SHADOW_MAX_QUEUED_TEXTS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.shadow_model_uri is None
    assert (settings.shadow_sample_rate, settings.shadow_max_queued_texts) == (0.1, 256)


def test_model_uri_wins_over_model_dir_which_keeps_working(monkeypatch, tmp_path):
    monkeypatch.delenv("MODEL_URI", raising=False)
    monkeypatch.setenv("MODEL_DIR", str(tmp_path / "a"))
    assert Settings(_env_file=None).model_source == str(tmp_path / "a")
    monkeypatch.setenv("MODEL_URI", "models:/spam-classifier@champion")
    settings = Settings(_env_file=None)
    assert settings.model_source == "models:/spam-classifier@champion"
    assert settings.model_cache_dir == Path("model-cache") and settings.model_watch_interval_s == 0


@pytest.mark.parametrize("uri", ["models:/spam-classifier/3", "weights/spam-minilm", None])
def test_watching_the_model_needs_a_registry_alias_in_model_uri(uri):
    with pytest.raises(ValidationError, match=r"MODEL_WATCH_INTERVAL_S=30 needs MODEL_URI to name a registry alias"):
        Settings(_env_file=None, model_uri=uri, model_watch_interval_s=30)
    watching = Settings(_env_file=None, model_uri="models:/spam-classifier@champion", model_watch_interval_s=30)
    assert watching.model_watch_interval_s == 30


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("  ", "MODEL_URI is empty"),
        ("models:spam-classifier", "MODEL_URI: 'models:spam-classifier' is not a registry URI: expected models:/"),
        ("models:/spam-classifier@", "is not a registry URI"),
        ("models:/spam-classifier/three", "is not a registry URI"),
    ],
)
@pytest.mark.parametrize("setting", ["model_uri", "shadow_model_uri"])
def test_a_model_uri_that_cannot_work_is_refused_saying_why(setting, uri, says):
    with pytest.raises(ValidationError, match=says.replace("MODEL_URI", setting.upper())):
        Settings(_env_file=None, **{setting: uri})
