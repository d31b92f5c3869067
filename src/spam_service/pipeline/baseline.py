"""Stage `baseline`: TF-IDF (word 1-2-grams + character 2-5-grams) with logistic regression.

Strong on this 2012 collection (it matches its n-grams), far weaker on newer spam whose wording it has never seen.
The evaluate stage fits how the service combines it with the transformer (`spam_service.model.combination`);
logistic regression, not an SVM, because every combination works on probabilities. It sees the texts normalised
as the transformer does (`train.text_normalization`).
"""

import logging
from collections.abc import Sequence

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from spam_service.model.text import TextNormalizer
from spam_service.pipeline.dataset import Example, read_jsonl
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


def fit_baseline(
    examples: Sequence[Example], weights: Sequence[float] | None = None, *, text_normalization: str | None = None
) -> Pipeline:
    """The baseline of params.yaml, fitted on `examples` normalised as the transformer is trained
    (`text_normalization`, by default params.yaml's `train.text_normalization`)."""
    params = load_params("baseline")
    normalizer = TextNormalizer(text_normalization or load_params("train").get("text_normalization", "basic"))
    model = build_baseline(C=params["C"], class_weight=params.get("class_weight"))
    texts = normalizer.all([e.text for e in examples])
    model.fit(texts, [e.label for e in examples], classifier__sample_weight=weights)
    drop_process_specific_state(model)
    return model


def drop_process_specific_state(model: Pipeline) -> None:
    """scikit-learn caches `id(stop_words)` on word vectorizers: a memory address, different in every process, that
    made the pickle (and so the model version and dvc.lock) differ between identical fits. It is only a cache."""
    for _, vectorizer in model.named_steps["features"].transformer_list:
        vectorizer.__dict__.pop("_stop_words_id", None)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    feedback = FeedbackParams.load()
    # The same feedback as the transformer, weighted alike: a baseline still calling a reported ham text spam would
    # pull the corrected transformer's combined score back up.
    rows = training_feedback(read_feedback(FEEDBACK_DATASET), feedback.exclude_reporters)
    examples, weights = weighted_examples(read_jsonl(split_path("train")), feedback_examples(rows), feedback.weight)
    model = fit_baseline(examples, weights)
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
