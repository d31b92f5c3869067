"""The loader: a model URI -> a warmed-up classifier that knows where it came from."""

from pathlib import Path

import pytest

from spam_service.errors import StartupError
from spam_service.model.loading import ModelNotFoundError, load_model
from spam_service.runtime import load_classifier
from spam_service.settings import Settings
from tests.support.model_copies import model_copy


def test_a_directory_loads_with_no_registry_version_and_its_path_as_uri(trained_model_dir, tmp_path):
    copy = model_copy(trained_model_dir, tmp_path / "copy", version="0123456789ab")
    settings = Settings(_env_file=None, model_uri=str(copy), inference_threads=1)
    classifier = load_classifier(settings)  # MODEL_URI wins over MODEL_DIR (the default)
    assert (classifier.version, classifier.registry_version, classifier.uri) == ("0123456789ab", None, str(copy))
    assert classifier.predict(["see you at 7?"])[0].label == "ham"


def test_model_dir_still_works_when_model_uri_is_unset(trained_model_dir):
    classifier = load_model(str(trained_model_dir), Settings(_env_file=None, inference_threads=1))
    assert classifier.uri == str(trained_model_dir) and classifier.registry_version is None
    assert classifier.pass_costs.measured  # the forward passes are planned with this machine's costs


def test_a_directory_without_a_model_is_not_found_and_stops_start_up_saying_so(tmp_path):
    with pytest.raises(ModelNotFoundError, match=rf"no model at {tmp_path}/ \(config.json missing\)") as missing:
        load_classifier(Settings(_env_file=None, model_uri=str(tmp_path)))
    assert missing.value.status_code == 404 and isinstance(missing.value, StartupError)


def test_expands_the_home_directory(monkeypatch, trained_model_dir, tmp_path):
    home = tmp_path / "home"
    model_copy(trained_model_dir, home / "model", version="abcdefabcdef")
    monkeypatch.setenv("HOME", str(home))
    classifier = load_model("~/model", Settings(_env_file=None, inference_threads=1))
    assert classifier.version == "abcdefabcdef" and Path(classifier.uri).name == "model"
