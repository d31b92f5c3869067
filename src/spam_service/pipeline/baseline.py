"""Stage `baseline`: TF-IDF (word 1-2-grams + character 2-5-grams) with a linear SVM.

Reported beside the transformer in reports/metrics.json. Strong on this 2012 collection, weaker on newer spam
whose wording it has never seen, which is why it is not the served model.
"""

import logging
from pathlib import Path

import joblib
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from spam_service.pipeline.dataset import read_jsonl
from spam_service.pipeline.params import load_params
from spam_service.pipeline.prepare import PREPARED_DIR
from spam_service.text import normalize_text

_logger = logging.getLogger(__name__)

BASELINE_PATH = Path("models/baseline.joblib")


def build_baseline(C: float = 1.0) -> Pipeline:
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )
    return Pipeline(
        [("features", features), ("classifier", LinearSVC(C=C, random_state=0))],
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("baseline")
    train = read_jsonl(PREPARED_DIR / "train.jsonl")
    model = build_baseline(C=params["C"])
    model.fit([normalize_text(e.text) for e in train], [e.label for e in train])
    BASELINE_PATH.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, BASELINE_PATH)
    _logger.info("baseline fitted on %d messages -> %s", len(train), BASELINE_PATH)


if __name__ == "__main__":
    main()
