"""The baseline scored directly gives scikit-learn's own probabilities, and anything it does not reproduce is
scored by scikit-learn."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from spam_service.model.baseline_scorer import BaselineScorer
from spam_service.pipeline.baseline import build_baseline
from tests.support.samples import synthetic

UNSEEN = [
    "",
    "😀😀 !!",
    "WIN WIN WIN a free prize now, call 0800 123 456",
    "see you at lunch, mum",
    "Ünïcödé tèxt with wörds never seen",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [e.text for e in synthetic(80, seed=11)] + UNSEEN


@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_the_project_baseline_scores_exactly_as_scikit_learn_does(texts, class_weight):
    examples = synthetic(120, seed=3)
    model = build_baseline(C=10.0, class_weight=class_weight)
    model.fit([e.text for e in examples], [e.label for e in examples])
    scorer = BaselineScorer(model)
    assert scorer._terms is not None  # the direct path, not the fallback
    expected = model.predict_proba(texts)[:, list(model.classes_).index("spam")]
    np.testing.assert_allclose(scorer.spam_probabilities(texts), expected, rtol=0, atol=1e-9)
    assert min(expected) > 0 and max(expected) < 1 and max(expected) - min(expected) > 0.5  # the texts differ


def test_another_pipeline_is_scored_by_scikit_learn(texts):
    examples = synthetic(120, seed=3)
    model = Pipeline([("counts", CountVectorizer()), ("classifier", LogisticRegression())])
    model.fit([e.text for e in examples], [e.label for e in examples])
    scorer = BaselineScorer(model)
    assert scorer._terms is None
    expected = model.predict_proba(texts)[:, list(model.classes_).index("spam")]
    assert scorer.spam_probabilities(texts) == expected.tolist()
