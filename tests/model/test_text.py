"""Text normalisation: what `variables` masks, and that training, the ONNX export and serving run the same code
with the mode the checkpoint records."""

import json

import pytest

from spam_service.model.classifier import SpamClassifier
from spam_service.model.text import TEXT_NORMALIZATION_KEY, TextNormalizer, mask_variables
from spam_service.pipeline.train import TrainConfig, train
from tests.support.samples import synthetic
from tests.support.tiny_models import export_tiny_onnx


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("G-482913 is your Google code", "G-000000 is your Google code"),
        ("Pay £1.99 at https://bit.ly/3xYz now", "Pay £0.00 at link https bit ly shortened now"),
        ("Update: usps-redelivery-help.com/track.", "Update: link usps redelivery help com path track."),
        ("call 07700 900123 or 555-0134", "call 00000 000000 or 000-0000"),
        ("pay at http://192.0.2.14/pay", "pay at link ip address"),
        ("Mr.Lee sent file.txt e.g. at 9.30", "Mr.Lee sent file.txt e.g. at 0.00"),  # not links
    ],
)
def test_variables_mode_masks_digits_and_splits_links(text, masked):
    assert mask_variables(text) == masked


def test_basic_mode_only_unescapes_and_composes():
    assert TextNormalizer()("Call &lt;#&gt; 123 cafe\u0301") == "Call <#> 123 caf\u00e9"
    assert TextNormalizer("variables")("code &lt;#&gt; 123") == "code <#> 000"


def test_an_unknown_mode_is_refused_and_a_config_without_one_is_basic():
    with pytest.raises(ValueError, match="text_normalization must be one of"):
        TextNormalizer("lowercase")
    assert TextNormalizer.from_config({}).mode == "basic"
    assert TextNormalizer.from_config({TEXT_NORMALIZATION_KEY: "variables"}).mode == "variables"


def test_training_the_onnx_export_and_serving_normalise_with_the_checkpoints_mode(
    tiny_distilbert_dir, tmp_path, monkeypatch
):
    calls: dict[str, set[str]] = {}
    original = TextNormalizer.__call__

    def recording(self, text):
        calls.setdefault(phase, set()).add(self.mode)
        return original(self, text)

    monkeypatch.setattr(TextNormalizer, "__call__", recording)
    config = TrainConfig(
        base_model=str(tiny_distilbert_dir), max_length=32, batch_size=8, max_epochs=1, evals_per_epoch=1,
        threads=1, text_normalization="variables",
    )  # fmt: skip
    out = tmp_path / "checkpoint"
    phase = "train"
    train(synthetic(24, seed=1), synthetic(8, seed=2), config, out, progress=False)
    assert json.loads((out / "config.json").read_text())[TEXT_NORMALIZATION_KEY] == "variables"
    phase = "onnx export"
    export_tiny_onnx(out)
    for backend in ("torch", "onnx", "onnx-int8"):
        phase = f"serving {backend}"
        classifier = SpamClassifier.load(out, backend=backend, max_tokens=32, combine_baseline=False)
        first, second = classifier.predict(["your code is 482913", "your code is 190245"])
        assert first.spam_probability == second.spam_probability  # the digits never reach the network
    assert calls == {phase: {"variables"} for phase in calls} and len(calls) == 5
