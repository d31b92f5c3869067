"""Stage `baseline`: TF-IDF (word 1-2-grams + character 2-5-grams) with logistic regression.

Strong on this 2012 collection (it matches its n-grams), far weaker on newer spam whose wording it has never seen.
The service combines it with the transformer as max(p_transformer, p_baseline): the baseline can only add spam
verdicts, so the transformer's recall on unfamiliar messages is kept while the two models' different mistakes on
familiar ones cancel (see README, Quality). Logistic regression, not an SVM, because the combination needs
probabilities on the same scale as the transformer's.
"""

import logging

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from spam_service.model.text import normalize_text
from spam_service.pipeline.dataset import read_jsonl
from spam_service.pipeline.feedback_data import (
    FeedbackParams,
    feedback_examples,
    read_feedback,
    training_feedback,
    weighted_examples,
)
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import BASELINE_PATH, FEEDBACK_DATASET, split_path

_logger = logging.getLogger(__name__)


def build_baseline(C: float = 10.0, class_weight: str | None = "balanced") -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=5000)
    return Pipeline([("features", features), ("classifier", classifier)])


def drop_process_specific_state(model: Pipeline) -> None:
    """scikit-learn caches `id(stop_words)` on word vectorizers: a memory address, different in every process, that
    made the pickle (and so the model version and dvc.lock) differ between identical fits. It is only a cache."""
    for _, vectorizer in model.named_steps["features"].transformer_list:
        vectorizer.__dict__.pop("_stop_words_id", None)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("baseline")
    feedback = FeedbackParams.load()
    # The same feedback as the transformer, weighted alike: the served score is max(transformer, baseline), so a
    # baseline still calling a reported ham text spam would override the corrected transformer.
    rows = training_feedback(read_feedback(FEEDBACK_DATASET), feedback.exclude_reporters)
    examples, weights = weighted_examples(read_jsonl(split_path("train")), feedback_examples(rows), feedback.weight)
    model = build_baseline(C=params["C"], class_weight=params.get("class_weight"))
    model.fit(
        [normalize_text(e.text) for e in examples], [e.label for e in examples], classifier__sample_weight=weights
    )
    drop_process_specific_state(model)
    BASELINE_PATH.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, BASELINE_PATH)
    _logger.info(
        "baseline fitted on %d messages, %d of them feedback (weight %s) -> %s",
        len(examples),
        len(rows),
        feedback.weight,
        BASELINE_PATH,
    )


if __name__ == "__main__":
    main()
