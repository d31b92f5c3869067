"""The baseline as the service scores it: tables that give scikit-learn's own probabilities, loaded without
scikit-learn; anything the tables cannot reproduce is scored by scikit-learn."""

import json
import re
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from spam_service.errors import ModelLoadError
from spam_service.model.baseline_scorer import (
    BaselineScorer,
    SklearnBaseline,
    char_wb_ngrams,
    scorer_for_model,
    word_ngrams,
    write_tables,
)
from spam_service.model.text import normalize_text
from spam_service.pipeline.baseline import build_baseline
from tests.support.samples import synthetic

ODD_TEXTS = [
    "",
    "   ",
    "a",
    "I'm ok, u?",
    "😀😀 !!",
    "WIN WIN WIN a free prize now, call 0800 123 456",
    "tabs\tand\n\nnew  lines   between",
    "Ünïcödé tèxt with wörds never seen, ÇA VA?",
    "x" * 3000,
    "ab cd ef",
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [e.text for e in synthetic(80, seed=11)] + ODD_TEXTS


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 3)])
def test_word_terms_are_scikit_learns(texts, ngram_range):
    vectorizer = TfidfVectorizer(ngram_range=ngram_range)
    ours = word_ngrams(re.compile(vectorizer.token_pattern), ngram_range)
    theirs = vectorizer.build_analyzer()
    assert all(sorted(ours(t)) == sorted(theirs(t)) for t in texts)


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 3), (3, 3)])
def test_character_terms_are_scikit_learns(texts, ngram_range):
    theirs = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    ours = char_wb_ngrams(ngram_range)
    assert all(sorted(ours(t)) == sorted(theirs(t)) for t in texts)


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_the_exported_tables_score_exactly_as_scikit_learn_does(texts, class_weight, tmp_path):
    examples = synthetic(120, seed=3)
    model = build_baseline(C=10.0, class_weight=class_weight)
    model.fit([e.text for e in examples], [e.label for e in examples])
    assert write_tables(model, tmp_path / "baseline.json")
    scorer = BaselineScorer.load(tmp_path / "baseline.json")
    expected = model.predict_proba(texts)[:, list(model.classes_).index("spam")]
    np.testing.assert_allclose(scorer.spam_probabilities(texts), expected, rtol=0, atol=1e-9)
    assert min(expected) > 0 and max(expected) < 1 and max(expected) - min(expected) > 0.5  # the texts differ


def test_another_pipeline_is_scored_by_scikit_learn_and_has_no_tables(texts, tmp_path):
    examples = synthetic(120, seed=3)
    model = Pipeline([("counts", CountVectorizer()), ("classifier", LogisticRegression())])
    model.fit([e.text for e in examples], [e.label for e in examples])
    assert not write_tables(model, tmp_path / "baseline.json") and not (tmp_path / "baseline.json").exists()
    scorer = scorer_for_model(model)
    assert isinstance(scorer, SklearnBaseline)
    expected = model.predict_proba(texts)[:, list(model.classes_).index("spam")]
    assert scorer.spam_probabilities(texts) == expected.tolist()


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"format": 99, "intercept": 0, "vectorizers": []}), json.dumps({"format": 1})],
)
def test_broken_tables_are_a_model_load_error_that_says_what_to_do(tmp_path, content):
    path = tmp_path / "baseline.json"
    path.write_text(content)
    with pytest.raises(ModelLoadError, match=r"baseline.json is broken .*dvc repro"):
        BaselineScorer.load(path)


def test_the_exported_model_is_served_without_importing_scikit_learn_or_torch(trained_model_dir):
    script = textwrap.dedent(
        f"""
        import json, sys
        from spam_service.runtime import load_classifier
        from spam_service.settings import Settings
        classifier = load_classifier(Settings(_env_file=None, model_dir={str(trained_model_dir)!r}))
        probabilities = [p.baseline_probability for p in classifier.predict({ODD_TEXTS!r})]
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"sklearn", "scipy", "torch", "pandas"}})
        print(json.dumps([classifier.backend, probabilities, heavy]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    backend, probabilities, heavy = json.loads(done.stdout.splitlines()[-1])
    assert backend.startswith("onnx") and heavy == []
    pickled = joblib.load(trained_model_dir / "baseline.joblib")
    expected = pickled.predict_proba([normalize_text(t) for t in ODD_TEXTS])[:, list(pickled.classes_).index("spam")]
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-9)
