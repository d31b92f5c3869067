"""SpamClassifier on a tiny random BERT: ordering, batching, truncation and load errors."""

import json
import math
import shutil
from pathlib import Path

import pytest

from spam_service.errors import ModelLoadError
from spam_service.model.artifact import weights_digest
from spam_service.model.classifier import SpamClassifier, plan_forward_passes
from spam_service.model.combination import logit
from tests.support.mlflow_stores import fake_export

TEXTS = ["free prize call now", "", "hello mum see you at lunch tomorrow " * 3, "😀", "ok"]


@pytest.fixture(scope="module")
def classifier(tiny_bert_dir: Path) -> SpamClassifier:
    return SpamClassifier.load(tiny_bert_dir, max_tokens=16, batch_size=2, threads=1)


def test_predictions_come_back_one_per_text_in_input_order(classifier):
    predictions = classifier.predict(TEXTS)
    assert len(predictions) == len(TEXTS)
    alone = [classifier.predict([text])[0] for text in TEXTS]
    for batched, single in zip(predictions, alone, strict=True):
        # Padding to other texts' lengths must not change a text's result.
        assert batched.spam_probability == pytest.approx(single.spam_probability, abs=1e-5)
        assert batched.tokens == single.tokens


def test_label_follows_the_spam_threshold(tiny_bert_dir):
    probability = SpamClassifier.load(tiny_bert_dir, max_tokens=16).predict(["free"])[0].spam_probability
    below = SpamClassifier.load(tiny_bert_dir, max_tokens=16, spam_threshold=min(0.99, probability + 0.01))
    above = SpamClassifier.load(tiny_bert_dir, max_tokens=16, spam_threshold=max(0.01, probability - 0.01))
    assert below.predict(["free"])[0].label == "ham"
    assert above.predict(["free"])[0].label == "spam"


def test_long_text_is_truncated_at_max_tokens_and_flagged(classifier):
    long_text, short_text = "free " * 40, "free prize"
    long_prediction, short_prediction = classifier.predict([long_text, short_text])
    assert long_prediction.truncated and long_prediction.tokens == 16
    assert not short_prediction.truncated and short_prediction.tokens == 4  # [CLS] free prize [SEP]


def test_html_entities_are_unescaped_like_in_training(classifier):
    escaped, plain = classifier.predict(["call &lt;#&gt; now", "call <#> now"])
    assert escaped.spam_probability == pytest.approx(plain.spam_probability, abs=1e-6)


def test_version_defaults_to_the_weights_digest(classifier, tiny_bert_dir):
    assert classifier.version == weights_digest(tiny_bert_dir)
    assert classifier.name == tiny_bert_dir.name


def test_missing_model_directory_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(ModelLoadError, match=r"make model"):
        SpamClassifier.load(tmp_path / "nowhere")


def test_corrupt_weights_fail_with_a_one_line_message(tiny_bert_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_bert_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match=r"broken .*make model") as caught:
        SpamClassifier.load(broken, max_tokens=16)
    assert "\n" not in str(caught.value)


def test_a_model_with_other_labels_is_refused(tiny_bert_dir, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(tiny_bert_dir, other)
    config = json.loads((other / "config.json").read_text())
    config["id2label"], config["label2id"] = {"0": "neg", "1": "pos"}, {"neg": 0, "pos": 1}
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"labels"):
        SpamClassifier.load(other)


def test_max_tokens_beyond_the_models_positions_is_refused(tiny_bert_dir):
    with pytest.raises(ModelLoadError, match=r"MAX_TOKENS=128 exceeds the model's 64 positions"):
        SpamClassifier.load(tiny_bert_dir, max_tokens=128)


@pytest.mark.parametrize("max_batch", [1, 3, 32])
def test_forward_passes_group_similar_lengths_and_cover_every_text_once(max_batch):
    lengths = [12, 80, 14, 13, 90, 11, 85, 40, 12, 13]
    groups = plan_forward_passes(lengths, max_batch, overhead_tokens=32)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    assert all(1 <= len(group) <= max_batch for group in groups)
    padded = sum(len(group) * max(lengths[i] for i in group) for group in groups)
    assert padded < len(lengths) * max(lengths) or max_batch == 1


def test_long_and_short_texts_are_not_padded_together():
    groups = plan_forward_passes([10] * 8 + [200] * 8, 32, overhead_tokens=32)
    assert sorted(map(sorted, groups)) == [list(range(8)), list(range(8, 16))]


def test_the_operating_point_in_serving_json_is_served_unless_a_threshold_is_given(tiny_bert_dir, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_bert_dir, model_dir)
    assert SpamClassifier.load(model_dir, max_tokens=16).spam_threshold == 0.5  # exported before operating points
    metadata = {"operating_point": {"thresholds": {"combined": 0.73, "transformer": 0.64}}}
    (model_dir / "serving.json").write_text(json.dumps(metadata))
    assert SpamClassifier.load(model_dir, max_tokens=16).spam_threshold == 0.64  # no baseline here: transformer's
    assert SpamClassifier.load(model_dir, max_tokens=16, spam_threshold=0.3).spam_threshold == 0.3
    with_baseline = fake_export(tiny_bert_dir, tmp_path / "export")
    (with_baseline / "serving.json").write_text(json.dumps(metadata))
    assert SpamClassifier.load(with_baseline, max_tokens=16).spam_threshold == 0.73  # combined with the baseline
    assert SpamClassifier.load(with_baseline, max_tokens=16, combine_baseline=False).spam_threshold == 0.64


def test_the_combination_in_serving_json_is_served_and_a_transformer_only_one_skips_the_baseline(
    tiny_bert_dir, tmp_path
):
    export = fake_export(tiny_bert_dir, tmp_path / "export")
    texts = ["win cash prize claim free", "see you at home mum"]
    legacy = SpamClassifier.load(export, max_tokens=16)  # no combination recorded: the max, uncalibrated
    assert [p.spam_probability for p in legacy.predict(texts)] == [
        max(p.transformer_probability, p.baseline_probability) for p in legacy.predict(texts)
    ]
    stacked = {"method": "stacked", "transformer_weight": 0.5, "baseline_weight": 2.0, "bias": -1.0}
    alone = {"method": "transformer", "transformer_weight": 0.8, "baseline_weight": 0.0, "bias": 0.2}
    (export / "serving.json").write_text(json.dumps({"combination": {"combined": stacked, "transformer": alone}}))
    classifier = SpamClassifier.load(export, max_tokens=16)
    for p in classifier.predict(texts):
        z = 0.5 * logit(p.transformer_probability) + 2.0 * logit(p.baseline_probability) - 1.0
        assert p.spam_probability == pytest.approx(1 / (1 + math.exp(-z)))
    without = SpamClassifier.load(export, max_tokens=16, combine_baseline=False)
    for p in without.predict(texts):
        assert p.baseline_probability is None
        assert p.spam_probability == pytest.approx(1 / (1 + math.exp(-(0.8 * logit(p.transformer_probability) + 0.2))))
    recorded = {"combined": {**alone, "bias": 0.0}, "transformer": alone}
    (export / "serving.json").write_text(json.dumps({"combination": recorded}))
    assert SpamClassifier.load(export, max_tokens=16).baseline is None  # the chosen combination does not use it
