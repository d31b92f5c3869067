"""Classifying a DataFrame's texts inside `mapInPandas`, exactly as the service does.

The driver resolves the model URI (a directory, or a registry URI fetched into MODEL_CACHE_DIR) and loads it once
with `spam_service.model.loading.load_model`, the service's own path: a model that cannot load fails there, before
any task runs, and the served engine, threshold, name and version are known. Each Python worker then loads the same
directory through the same function with the values the driver resolved (`ModelPlan`), once per worker process
(workers are reused across tasks), and calls `SpamClassifier.predict`: the same tokenizer, length-grouped forward
passes, engine, baseline combination and threshold, so the labels and probabilities are the service's.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spam_service.batch.errors import BatchUsageError
from spam_service.model.classifier import SpamClassifier

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame

    from spam_service.settings import Settings

BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
# (name, Spark type) of the columns `score` adds beside the input's.
PREDICTION_COLUMNS = (
    ("predicted_label", "string"),
    ("spam_probability", "double"),
    ("transformer_probability", "double"),
    ("baseline_probability", "double"),
    ("truncated", "boolean"),
    ("model_name", "string"),
    ("model_version", "string"),
    ("model_registry_version", "string"),
)
# Texts per `predict` call: enough for the length grouping to find full passes, small enough to bound memory.
PREDICT_CHUNK = 512


@dataclasses.dataclass(frozen=True, slots=True)
class ModelPlan:
    """What a worker needs to load the model the driver resolved; hashable, so workers cache by it."""

    uri: str  # as given (a directory or models:/...)
    directory: str  # where the executors find it (the driver's path in local mode)
    backend: str  # resolved: onnx, onnx-int8 or torch
    spam_threshold: float
    max_tokens: int
    batch_size: int
    threads: int
    combine_baseline: bool
    name: str
    version: str
    registry_version: str | None
    # The driver's measured pass costs: every worker groups texts into forward passes alike, so a job's output does
    # not depend on which worker scored a row (a dynamically quantised int8 engine, if one is chosen, is sensitive to
    # a pass's composition).
    max_texts_per_pass: int
    pass_overhead_tokens: float

    def settings(self) -> Settings:
        from spam_service.settings import Settings

        return Settings(
            model_dir=Path(self.directory),
            inference_backend=self.backend,
            spam_threshold=self.spam_threshold,
            max_tokens=self.max_tokens,
            inference_batch_size=self.batch_size,
            inference_threads=self.threads,
            combine_baseline=self.combine_baseline,
        )


def resolve_model(
    uri: str, *, backend: str = "auto", threads: int = 1, executor_directory: str | None = None
) -> tuple[ModelPlan, SpamClassifier]:
    """Load the model `uri` names on the driver, as the service would (SPAM_THRESHOLD, MAX_TOKENS,
    COMBINE_BASELINE and INFERENCE_BATCH_SIZE from the environment as it reads them), and the plan for the workers.

    `executor_directory`: the model directory as the executors see it, when not the driver's path (a cluster with
    the model shipped by `--archives`). Raises ModelLoadError / RegistryError (from the service's loader)."""
    from spam_service.model.loading import load_model, locate_model
    from spam_service.settings import Settings

    if backend not in BACKENDS:
        raise BatchUsageError(f"--backend {backend}: expected one of {', '.join(BACKENDS)}")
    settings = Settings(inference_backend=backend, inference_threads=threads)
    directory, _ = locate_model(uri, settings)
    classifier = load_model(uri, settings)
    plan = ModelPlan(
        uri=uri,
        directory=executor_directory or str(Path(directory).resolve()),
        backend=classifier.backend,
        spam_threshold=classifier.spam_threshold,
        max_tokens=classifier.max_tokens,
        batch_size=classifier.batch_size,
        threads=threads,
        combine_baseline=classifier.baseline is not None,
        name=classifier.name,
        version=classifier.version,
        registry_version=classifier.registry_version,
        max_texts_per_pass=classifier.pass_costs.max_texts,
        pass_overhead_tokens=classifier.pass_costs.overhead_tokens,
    )
    return plan, classifier


def load_planned(plan: ModelPlan) -> SpamClassifier:
    """The plan's model loaded as the driver loaded it, forward passes grouped as the driver measured."""
    from spam_service.model.loading import load_model
    from spam_service.model.pass_costs import PassCosts

    classifier = load_model(plan.directory, plan.settings())
    classifier.pass_costs = PassCosts(
        overhead_tokens=plan.pass_overhead_tokens, max_texts=plan.max_texts_per_pass, measured=True
    )
    return classifier


_worker_classifiers: dict[ModelPlan, SpamClassifier] = {}


def worker_classifier(plan: ModelPlan) -> SpamClassifier:
    """The plan's classifier in this Python worker, loaded on first use (the service's `load_model`)."""
    classifier = _worker_classifiers.get(plan)
    if classifier is None:
        classifier = load_planned(plan)
        if classifier.version != plan.version:
            raise RuntimeError(
                f"the executors' model at {plan.directory} is version {classifier.version}, the driver resolved "
                f"{plan.version}: ship the same directory (see docs/batch.md)"
            )
        _worker_classifiers[plan] = classifier
    return classifier


def predictions_frame(plan: ModelPlan, texts: pd.Series, prefix: str = "") -> pd.DataFrame:
    """PREDICTION_COLUMNS (names prefixed) for a batch of texts; null texts get null predictions."""
    import pandas as pd

    classifier = worker_classifier(plan)
    present = [i for i, text in enumerate(texts) if isinstance(text, str)]
    size = len(texts)
    label: list[Any] = [None] * size
    probability: list[Any] = [None] * size
    transformer: list[Any] = [None] * size
    baseline: list[Any] = [None] * size
    truncated: list[Any] = [None] * size
    for start in range(0, len(present), PREDICT_CHUNK):
        chunk = present[start : start + PREDICT_CHUNK]
        for i, prediction in zip(chunk, classifier.predict([texts.iloc[i] for i in chunk]), strict=True):
            label[i] = prediction.label
            probability[i] = prediction.spam_probability
            transformer[i] = prediction.transformer_probability
            baseline[i] = prediction.baseline_probability
            truncated[i] = prediction.truncated
    constant = {"model_name": plan.name, "model_version": plan.version, "model_registry_version": plan.registry_version}
    columns = {
        "predicted_label": pd.array(label, dtype="string"),
        "spam_probability": pd.array(probability, dtype="Float64"),
        "transformer_probability": pd.array(transformer, dtype="Float64"),
        "baseline_probability": pd.array(baseline, dtype="Float64"),
        "truncated": pd.array(truncated, dtype="boolean"),
        **{name: pd.array([value] * size, dtype="string") for name, value in constant.items()},
    }
    return pd.DataFrame({prefix + name: values for name, values in columns.items()}, index=texts.index)


@dataclasses.dataclass(frozen=True)
class Scorer:
    """The function `mapInPandas` runs: each batch of rows, with the models' predictions beside it.

    `models` pairs a column prefix with a plan (`score`: one model, no prefix; `compare`: champion_, challenger_).
    `keep` names the input columns passed through (all of them when None)."""

    text_column: str
    models: tuple[tuple[str, ModelPlan], ...]
    keep: tuple[str, ...] | None = None

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import pandas as pd

        for batch in batches:
            texts = batch[self.text_column]
            kept = batch if self.keep is None else batch[list(self.keep)]
            parts = [kept, *(predictions_frame(plan, texts, prefix) for prefix, plan in self.models)]
            yield pd.concat(parts, axis=1)


def spread(frame: DataFrame, partitions: int) -> DataFrame:
    """`frame` in at least `partitions` partitions. Spark splits input by bytes (128 MB by default): a few MB of
    short texts, hours of inference, would otherwise be one task on one core."""
    if frame.rdd.getNumPartitions() >= partitions:
        return frame
    return frame.repartition(partitions)


def output_schema(frame: DataFrame, prefixes: Sequence[str], keep: Sequence[str] | None = None) -> str:
    """The DDL schema of the scored frame: the kept input columns, then PREDICTION_COLUMNS per prefix."""
    fields = [f for f in frame.schema.fields if keep is None or f.name in keep]
    kept = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in fields)
    added = ", ".join(f"`{p}{name}` {kind}" for p in prefixes for name, kind in PREDICTION_COLUMNS)
    return f"{kept}, {added}" if kept else added


def score_frame(
    frame: DataFrame,
    text_column: str,
    models: Sequence[tuple[str, ModelPlan]],
    keep: Sequence[str] | None = None,
) -> DataFrame:
    """`frame` with the models' predictions beside its columns (a lazy DataFrame: nothing runs yet).

    Raises BatchUsageError when a column the models add exists in the input already."""
    kept = list(frame.columns) if keep is None else list(keep)
    clashes = sorted({p + name for p, _ in models for name, _ in PREDICTION_COLUMNS} & set(kept))
    if clashes:
        raise BatchUsageError(
            f"the input already has the column(s) {', '.join(clashes)} that scoring adds: drop or rename them first"
        )
    schema = output_schema(frame, [p for p, _ in models], kept)
    with warnings.catch_warnings():
        # pyspark 4.1 warns that pandas 3 is not fully supported; the project pins pandas 3 and the conversions
        # used here (strings, nullable numbers and booleans) are covered by tests/batch.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
        return frame.mapInPandas(Scorer(text_column, tuple(models), None if keep is None else tuple(keep)), schema)
