"""The exported model directory's version digest and serving.json."""

import hashlib

import pytest

from spam_service.errors import ModelLoadError
from spam_service.model.artifact import read_serving_metadata, weights_digest, write_serving_metadata


def test_version_digests_the_safetensors_in_name_order_then_the_baseline(tmp_path):
    # Pinned bytes: a change here changes the version of every model exported before it.
    (tmp_path / "b.safetensors").write_bytes(b"second")
    (tmp_path / "a.safetensors").write_bytes(b"first")
    (tmp_path / "pytorch_model.bin").write_bytes(b"ignored beside safetensors")
    (tmp_path / "baseline.joblib").write_bytes(b"baseline")
    (tmp_path / "serving.json").write_text("{}")  # metadata does not decide predictions
    assert weights_digest(tmp_path) == hashlib.sha256(b"firstsecondbaseline").hexdigest()[:12]


def test_version_falls_back_to_bin_weights_and_needs_no_baseline(tmp_path):
    (tmp_path / "pytorch_model.bin").write_bytes(b"weights")
    assert weights_digest(tmp_path) == hashlib.sha256(b"weights").hexdigest()[:12]


def test_serving_metadata_round_trips_and_is_empty_when_absent(tmp_path):
    assert read_serving_metadata(tmp_path) == {}
    write_serving_metadata(tmp_path, {"name": "spam-x", "version": "abc"})
    assert read_serving_metadata(tmp_path) == {"name": "spam-x", "version": "abc"}


def test_unreadable_serving_metadata_names_the_file(tmp_path):
    (tmp_path / "serving.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match=r"serving\.json is unreadable"):
        read_serving_metadata(tmp_path)
