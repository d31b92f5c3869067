"""The registry against a real MLflow SQLite store: resolving, fetching (cached, atomic), listing, errors."""

import os
import time
from pathlib import Path

import pytest

from spam_service.model.classifier import SpamClassifier
from spam_service.models.registry import (
    DEFAULT_TRACKING_URI,
    ModelRegistry,
    RegistryError,
    UnknownModelVersionError,
    is_registry_uri,
    local_artifact_location,
    parse_registry_uri,
    tracking_uri,
)
from tests.support.live_server import free_port


def test_tracking_uri_is_the_argument_else_the_environment_else_the_local_store(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert tracking_uri() == "http://mlflow:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert tracking_uri() == DEFAULT_TRACKING_URI == "sqlite:///mlruns/mlflow.db"


def test_a_local_store_keeps_artifacts_beside_its_database_and_a_server_decides_its_own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert local_artifact_location(DEFAULT_TRACKING_URI) == str(tmp_path / "mlruns" / "artifacts")
    assert local_artifact_location("sqlite:////srv/mlflow/db.sqlite") == "/srv/mlflow/artifacts"
    assert local_artifact_location("http://mlflow:5000") is None


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/spam-classifier@champion", ("spam-classifier", "champion", None)),
        ("models:/spam-classifier/12", ("spam-classifier", None, "12")),
    ],
)
def test_registry_uris_name_an_alias_or_a_version(uri, expected):
    assert is_registry_uri(uri) and parse_registry_uri(uri) == expected


@pytest.mark.parametrize("uri", ["models:/spam-classifier", "models:/spam-classifier/latest", "runs:/abc/model"])
def test_a_malformed_registry_uri_is_refused_before_any_io(uri):
    with pytest.raises(UnknownModelVersionError, match="expected models:/spam-classifier@ALIAS"):
        ModelRegistry("http://127.0.0.1:1").resolve(uri)


def test_the_default_store_is_created_under_mlruns_of_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registry = ModelRegistry(DEFAULT_TRACKING_URI)
    assert registry.tracking_uri == f"sqlite:///{tmp_path}/mlruns/mlflow.db"  # MLflow caches stores by URI
    assert ModelRegistry("sqlite:///a.db?timeout=5").tracking_uri == f"sqlite:///{tmp_path}/a.db?timeout=5"
    assert not (tmp_path / "mlruns").exists()  # nothing happens until it is used
    assert registry.versions() == [] and registry.aliases() == {}
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()


def test_aliases_and_versions_resolve_to_the_version_number(published):
    registry = ModelRegistry()
    registry.set_alias("champion", published.version)
    assert registry.resolve("models:/spam-classifier@champion") == published.version
    assert registry.resolve(f"models:/spam-classifier/{published.version}") == published.version
    [listed] = registry.versions()
    assert listed.aliases == ("champion",) and listed.run_id == published.run_id
    assert listed.tags["model_version"] == "0123456789ab" and listed.created is not None


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("models:/spam-classifier/7", "Model Version .*not found"),
        ("models:/spam-classifier@challenger", "no alias 'challenger'.*--alias challenger"),
        ("models:/other-model@champion", "not found"),
    ],
)
def test_an_unknown_version_or_alias_raises_unknown_model_version(published, uri, message):
    with pytest.raises(UnknownModelVersionError, match=message) as raised:
        ModelRegistry().resolve(uri)
    assert raised.value.status_code == 404 and "\n" not in str(raised.value)


def test_fetch_downloads_the_servable_directory_once_and_it_loads(published, tmp_path):
    registry = ModelRegistry()
    registry.set_alias("champion", published.version)
    cache = tmp_path / "model-cache"
    fetched = registry.fetch("models:/spam-classifier@champion", cache)
    assert fetched.registry_version == published.version and fetched.uri == "models:/spam-classifier@champion"
    assert fetched.directory.parent.name == "artifacts"
    assert fetched.directory.is_relative_to(cache / "spam-classifier" / published.version)
    assert sorted(p.name for p in cache.joinpath("spam-classifier").iterdir()) == [published.version]  # no temp left
    classifier = SpamClassifier.load(fetched.directory, max_tokens=64)
    assert classifier.version == "0123456789ab" and classifier.baseline is not None
    assert {p.label for p in classifier.predict(["win cash prize", "see you at home"])} <= {"spam", "ham"}

    # The second fetch reads the cache: it works with the store's artifacts gone.
    artifacts = Path(local_artifact_location(published.tracking_uri))
    os.rename(artifacts, artifacts.with_name("moved"))
    again = registry.fetch(f"models:/spam-classifier/{published.version}", cache)
    assert again.directory == fetched.directory


def test_an_incomplete_cached_download_is_replaced(published, tmp_path):
    cache = tmp_path / "model-cache"
    partial = cache / "spam-classifier" / published.version
    partial.mkdir(parents=True)
    (partial / "half-written").write_text("")
    fetched = ModelRegistry().fetch(f"models:/spam-classifier/{published.version}", cache)
    assert not (partial / "half-written").exists()
    assert (fetched.directory / "serving.json").is_file()


def test_an_unreachable_tracking_server_raises_registry_error_quickly(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(RegistryError) as raised:
        ModelRegistry(uri).resolve("models:/spam-classifier@champion")
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert not isinstance(raised.value, UnknownModelVersionError) and raised.value.status_code == 503
    assert f"MLFLOW_TRACKING_URI={uri}" in message and "tracking server is running" in message
    assert "\n" not in message


def test_a_tracking_uri_with_a_password_is_shown_masked(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    uri = f"http://operator:s3cret-pass@127.0.0.1:{free_port()}"
    with pytest.raises(RegistryError) as raised:
        ModelRegistry(uri).resolve("models:/spam-classifier@champion")
    assert "s3cret-pass" not in str(raised.value) and "operator:***@127.0.0.1" in str(raised.value)


def test_a_file_that_is_no_mlflow_store_raises_registry_error_naming_it(tmp_path):
    database = tmp_path / "mlflow.db"
    database.write_text("not a database")
    uri = f"sqlite:///{database}"
    with pytest.raises(RegistryError, match=f"MLFLOW_TRACKING_URI={uri} .*is an MLflow database"):
        ModelRegistry(uri).versions()
