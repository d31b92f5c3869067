"""The TF-IDF baseline as the service scores it: plain tables, no scikit-learn in the serving process.

The baseline is trained with scikit-learn (`pipeline/baseline.py`: word 1-2-gram and character 2-5-gram TF-IDF,
logistic regression) and exported twice: `baseline.joblib`, the fitted pipeline, for the pipeline and for users
who want scikit-learn's object, and `baseline.json`, what scoring needs (each vectorizer's settings, vocabulary,
idf and idf x coefficient; the intercept), which is what the service loads. Why:

- speed: `Pipeline.predict_proba` on one text cost ~13 ms here, ~12 of them input checks (`check_array`, narwhals'
  dataframe sniffing) and the FeatureUnion's joblib dispatch, all holding the GIL; the arithmetic done here (term
  counts, sublinear tf, idf, l2 norm, the dot product) costs ~0.8 ms. skl2onnx, which would take the baseline off
  the GIL, cannot convert the character n-gram vectorizer ("only tokenizer='word' is fully supported");
- start-up and memory: importing scikit-learn (with SciPy and pandas) and unpickling the pipeline took ~170 MB and
  about a second;
- safety: JSON is data, a pickle is code.

The analyzers below reproduce scikit-learn's `TfidfVectorizer.build_analyzer()` for the settings the project uses
(lowercase, no accent stripping, no stop words, `word` with a token pattern and `char_wb`); `tables_from_pipeline`
refuses anything else, and a test holds the probabilities to scikit-learn's within 1e-9. A directory exported
before `baseline.json` existed is still served: its pickle is converted in memory, or scored by scikit-learn when
it is not of this shape.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spam_service.errors import REPRODUCE_HINT, ModelLoadError
from spam_service.model.labels import SPAM

TABLES_FORMAT = 1
_WHITE_SPACES = re.compile(r"\s\s+")


def word_ngrams(pattern: re.Pattern[str], ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """scikit-learn's `analyzer="word"`: lowercase, tokens by `pattern`, n-grams joined by a space."""
    low, high = ngram_range

    def analyze(text: str) -> list[str]:
        tokens = pattern.findall(text.lower())
        terms = list(tokens) if low == 1 else []
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            terms.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
        return terms

    return analyze


def char_wb_ngrams(ngram_range: tuple[int, int]) -> Callable[[str], list[str]]:
    """scikit-learn's `analyzer="char_wb"`: lowercase, character n-grams inside words padded with a space."""
    low, high = ngram_range

    def analyze(text: str) -> list[str]:
        terms: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text.lower()).split():
            padded = f" {word} "
            for n in range(low, high + 1):
                if len(padded) <= n:  # a short word counts once, whole
                    terms.append(padded)
                    break
                terms.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
        return terms

    return analyze


@dataclass(frozen=True, slots=True)
class VectorizerTable:
    analyzer: Callable[[str], list[str]]
    columns: dict[str, int]  # term -> column
    idf: list[float]  # per column
    weights: list[float]  # per column: idf x the classifier's coefficient (the norm is taken over tf x idf)
    sublinear_tf: bool


class BaselineScorer:
    """Spam probabilities of the exported baseline, from its tables (`load`) or a fitted pipeline (`from_model`)."""

    def __init__(self, vectorizers: list[VectorizerTable], intercept: float) -> None:
        self._vectorizers = vectorizers
        self._intercept = intercept

    @classmethod
    def load(cls, path: Path) -> BaselineScorer:
        """The tables the export wrote (`baseline.json`); `ModelLoadError` when unreadable."""
        try:
            tables = json.loads(path.read_text(encoding="utf-8"))
            if tables.get("format") != TABLES_FORMAT:
                raise ValueError(f"format {tables.get('format')!r}, expected {TABLES_FORMAT}")
            return cls.from_tables(tables)
        except (OSError, ValueError, KeyError, TypeError, re.error) as exc:
            raise ModelLoadError(f"{path} is broken ({type(exc).__name__}: {exc}): {REPRODUCE_HINT}") from None

    @classmethod
    def from_tables(cls, tables: dict[str, Any]) -> BaselineScorer:
        vectorizers = []
        for table in tables["vectorizers"]:
            ngram_range = (int(table["ngram_range"][0]), int(table["ngram_range"][1]))
            if table["analyzer"] == "word":
                analyzer = word_ngrams(re.compile(table["token_pattern"]), ngram_range)
            elif table["analyzer"] == "char_wb":
                analyzer = char_wb_ngrams(ngram_range)
            else:
                raise ValueError(f"analyzer {table['analyzer']!r} is not supported")
            terms = table["terms"]
            if not len(terms) == len(table["idf"]) == len(table["weights"]):
                raise ValueError("terms, idf and weights differ in length")
            columns = {term: column for column, term in enumerate(terms)}
            vectorizers.append(
                VectorizerTable(analyzer, columns, table["idf"], table["weights"], bool(table["sublinear_tf"]))
            )
        return cls(vectorizers, float(tables["intercept"]))

    def spam_probabilities(self, texts: Sequence[str]) -> list[float]:
        return [self._spam_probability(text) for text in texts]

    def _spam_probability(self, text: str) -> float:
        decision = self._intercept
        for vectorizer in self._vectorizers:
            columns = vectorizer.columns
            counts = Counter(columns[term] for term in vectorizer.analyzer(text) if term in columns)
            dot = squares = 0.0
            for column, count in counts.items():
                tf = 1.0 + math.log(count) if vectorizer.sublinear_tf else float(count)
                dot += tf * vectorizer.weights[column]
                squares += (tf * vectorizer.idf[column]) ** 2
            if squares:
                decision += dot / math.sqrt(squares)
        # expit, without overflow for large |decision|
        return 1.0 / (1.0 + math.exp(-decision)) if decision >= 0 else math.exp(decision) / (1.0 + math.exp(decision))


class SklearnBaseline:
    """A fitted pipeline of another shape (a custom baseline with `predict_proba`), scored by scikit-learn."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._spam_column = list(model.classes_).index(SPAM)

    def spam_probabilities(self, texts: Sequence[str]) -> list[float]:
        return self.model.predict_proba(list(texts))[:, self._spam_column].tolist()


def scorer_for_model(model: Any) -> BaselineScorer | SklearnBaseline:
    """The fastest faithful scorer of a fitted pipeline: its tables when it has the project's shape."""
    tables = tables_from_pipeline(model)
    return BaselineScorer.from_tables(tables) if tables is not None else SklearnBaseline(model)


def tables_from_pipeline(model: Any) -> dict[str, Any] | None:
    """`baseline.json`'s content for `Pipeline([("features", FeatureUnion of TfidfVectorizer),
    ("classifier", binary LogisticRegression)])`, or None when `model` is anything the tables cannot reproduce."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    if not isinstance(model, Pipeline) or len(model.steps) != 2:
        return None
    features, classifier = model.steps[0][1], model.steps[1][1]
    if not (
        isinstance(features, FeatureUnion)
        and isinstance(classifier, LogisticRegression)
        and list(classifier.classes_).index(SPAM) == 1  # the decision function is P(classes_[1])
        and not features.transformer_weights
        and all(_reproducible(vectorizer, TfidfVectorizer) for _, vectorizer in features.transformer_list)
    ):
        return None
    coefficients = [float(c) for c in classifier.coef_.ravel()]
    vectorizers, offset = [], 0
    for _, vectorizer in features.transformer_list:
        terms = [""] * len(vectorizer.vocabulary_)
        for term, column in vectorizer.vocabulary_.items():
            terms[column] = term
        idf = [float(value) for value in vectorizer.idf_]
        vectorizers.append(
            {
                "analyzer": vectorizer.analyzer,
                "ngram_range": list(vectorizer.ngram_range),
                "token_pattern": vectorizer.token_pattern,
                "sublinear_tf": bool(vectorizer.sublinear_tf),
                "terms": terms,
                "idf": idf,
                "weights": [value * coefficients[offset + column] for column, value in enumerate(idf)],
            }
        )
        offset += len(terms)
    return {"format": TABLES_FORMAT, "intercept": float(classifier.intercept_[0]), "vectorizers": vectorizers}


def _reproducible(vectorizer: Any, tfidf_type: type) -> bool:
    """Settings the analyzers above reproduce exactly."""
    return (
        isinstance(vectorizer, tfidf_type)
        and vectorizer.analyzer in ("word", "char_wb")
        and vectorizer.input == "content"
        and vectorizer.lowercase
        and vectorizer.strip_accents is None
        and vectorizer.preprocessor is None
        and vectorizer.tokenizer is None
        and vectorizer.stop_words is None
        and vectorizer.norm == "l2"
        and vectorizer.use_idf
        and not vectorizer.binary
        and (vectorizer.analyzer != "word" or vectorizer.token_pattern is not None)
    )


def write_tables(model: Any, path: Path) -> bool:
    """Write `baseline.json` for a fitted pipeline; False (nothing written) when its shape is not reproducible."""
    tables = tables_from_pipeline(model)
    if tables is None:
        return False
    path.write_text(json.dumps(tables, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return True
