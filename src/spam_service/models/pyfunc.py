"""`SpamClassifierModel`: the exported classifier as an MLflow pyfunc model, so MLflow's tools
(`mlflow.pyfunc.load_model`, `mlflow models serve`) can run a registered version. The service itself does not go
through it: it fetches the servable directory inside the version and loads it with `SpamClassifier.load`.

Imports mlflow at module level: only the export stage and MLflow's loader import this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc

from spam_service.models.registry import SERVABLE_ARTIFACT

INPUT_COLUMN = "text"


def model_signature() -> Any:
    """Input: a string column `text`; output: `label` (ham/spam) and `spam_probability` (the served one)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", INPUT_COLUMN)]),
        outputs=Schema([ColSpec("string", "label"), ColSpec("double", "spam_probability")]),
    )


class SpamClassifierModel(mlflow.pyfunc.PythonModel):
    """Loads the servable directory (the `model` artifact) with its default backend and token limit; predicts a
    DataFrame with a `text` column, or a list of strings (through `mlflow.pyfunc.load_model`, the signature asks for
    the DataFrame)."""

    def load_context(self, context: Any) -> None:
        from spam_service.model.artifact import read_serving_metadata
        from spam_service.model.classifier import SpamClassifier

        directory = Path(context.artifacts[SERVABLE_ARTIFACT])
        max_tokens = read_serving_metadata(directory).get("max_tokens", 256)  # the limit it was evaluated with
        self.classifier = SpamClassifier.load(directory, max_tokens=max_tokens)

    # No annotations: MLflow reads predict's type hints as an input schema, and the signature already is one.
    def predict(self, context, model_input, params=None):
        import pandas as pd

        if isinstance(model_input, pd.DataFrame):
            texts = model_input[INPUT_COLUMN].tolist()
        elif isinstance(model_input, pd.Series):
            texts = model_input.tolist()
        else:
            texts = list(model_input)
        predictions = self.classifier.predict([str(text) for text in texts])
        return pd.DataFrame(
            {
                "label": [p.label for p in predictions],
                "spam_probability": [float(p.spam_probability) for p in predictions],
            }
        )
