"""Publishing an exported model: its servable subset logged as the run's pyfunc model, and registered as a new
version of `spam-classifier` whose tags carry what the promotion gate compares.

The servable subset is what the service needs with serving.json's default backend, nothing more: config,
tokenizer, serving.json, model card, baseline and, for the int8 default, `onnx/model.int8.onnx` (about 60 MB, static
QDQ, instead of the export's ~238 MB with fp32 safetensors and fp32 ONNX). Other backends then need the full export.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from spam_service.model.artifact import (
    BASELINE_FILE,
    CONFIG_FILE,
    MODEL_CARD_FILE,
    SERVING_METADATA_FILE,
    TOKENIZER_CONFIG_FILE,
    TOKENIZER_FILE,
    WEIGHTS_PATTERNS,
    onnx_path,
    read_serving_metadata,
)
from spam_service.model.classifier import SpamClassifier
from spam_service.models.promotion import (
    TAG_DEFAULT_BACKEND,
    TAG_GIT_REVISION,
    TAG_INT8_RULE,
    TAG_MODEL_DIGEST,
    GateFigures,
)
from spam_service.models.registry import SERVABLE_ARTIFACT, RegistryError
from spam_service.models.tracking import StageRun, git_revision

_logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"  # the run's logged model: runs:/<id>/model
SERVABLE_DIR_NAME = "servable"  # its directory under the pyfunc model's artifacts/
# Files every backend reads; the tokenizer's extra files are copied when save_pretrained wrote them.
COMMON_FILES = (
    CONFIG_FILE,
    TOKENIZER_FILE,
    TOKENIZER_CONFIG_FILE,
    SERVING_METADATA_FILE,
    MODEL_CARD_FILE,
    BASELINE_FILE,
)
OPTIONAL_FILES = ("special_tokens_map.json", "vocab.txt")
# What loading the servable directory imports, per backend; pinned to what exported it.
RUNTIME_DISTRIBUTIONS = ("mlflow-skinny", "numpy", "pandas", "tokenizers", "scikit-learn", "joblib")
BACKEND_DISTRIBUTIONS = {"torch": ("torch", "transformers", "safetensors"), "onnx": ("onnxruntime",)}
DEFAULT_MAX_TOKENS = 256  # SpamClassifier.load's, for an export whose serving.json does not say
SMOKE_TEXTS = ["WINNER! Claim your free prize now, call 09061701461", "see you at lunch tomorrow?"]

# The operating point the version serves by default (serving.json's, chosen on validation by the evaluate stage).
TAG_THRESHOLD = "operating_point.threshold"
TAG_TRANSFORMER_THRESHOLD = "operating_point.transformer_threshold"  # served with COMBINE_BASELINE=false
TAG_HAM_BLOCKED_BUDGET = "operating_point.ham_blocked_budget"
TAG_PER_SOURCE = "operating_point.{source}.{figure}"  # ham_flagged / spam_caught of each set at the threshold


def per_source_tags(per_source: dict[str, dict[str, Any]]) -> dict[str, str]:
    """`operating_point.<set>.ham_flagged` and `.spam_caught` of each set (spaces in a set's name as `_`)."""
    return {
        TAG_PER_SOURCE.format(source=name.replace(" ", "_"), figure=figure): repr(row[figure])
        for name, row in per_source.items()
        for figure in ("ham_flagged", "spam_caught")
    }


def build_servable(model_dir: Path, destination: Path) -> str:
    """Copy to `destination` what `SpamClassifier.load(destination)` (backend auto) needs, check that it loads and
    predicts with serving.json's default backend, and return that backend."""
    metadata = read_serving_metadata(model_dir)
    backend = metadata.get("default_backend", "torch")
    if backend == "torch":
        weights = next((found for pattern in WEIGHTS_PATTERNS if (found := sorted(model_dir.glob(pattern)))), [])
        backend_files = [path.relative_to(model_dir) for path in weights]
    else:
        backend_files = [onnx_path(model_dir, backend).relative_to(model_dir)]
    optional = [name for name in OPTIONAL_FILES if (model_dir / name).is_file()]
    missing = [str(name) for name in [*COMMON_FILES, *backend_files] if not (model_dir / name).is_file()]
    if missing or not backend_files:
        raise RegistryError(
            f"{model_dir}/ lacks {', '.join(missing) or 'weights'} for its default backend {backend}: "
            "re-run `dvc repro` (stages onnx, export)"
        )
    for relative in [*COMMON_FILES, *optional, *backend_files]:
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_dir / relative, destination / relative)
    classifier = SpamClassifier.load(destination, max_tokens=metadata.get("max_tokens", DEFAULT_MAX_TOKENS))
    if classifier.backend != backend:
        raise RegistryError(f"the servable copy of {model_dir}/ loads with {classifier.backend}, not {backend}")
    classifier.predict(SMOKE_TEXTS)
    return backend


def pip_requirements(backend: str) -> list[str]:
    """The distributions loading the servable directory needs, at the versions installed here (no inference: it
    is slow and imports things). The `spam_service` package itself must be installed where the model is loaded."""
    names = [*RUNTIME_DISTRIBUTIONS, *BACKEND_DISTRIBUTIONS["torch" if backend == "torch" else "onnx"]]
    requirements = []
    for name in names:
        try:
            requirements.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            requirements.append(name)
    return requirements


def publish_export(run: StageRun, model_dir: Path, metrics: dict[str, Any], backends: dict[str, Any]) -> str:
    """Log the servable subset of the export in `model_dir` as the run's model and register it as a new version
    of `spam-classifier`, tagged with the gate's figures, the weights digest and the git revision. Returns the
    version."""
    import mlflow.pyfunc

    from spam_service.models.pyfunc import SpamClassifierModel, model_signature

    figures = GateFigures.from_reports(metrics, backends)
    digest = read_serving_metadata(model_dir)["version"]
    revision, dirty = git_revision()
    with tempfile.TemporaryDirectory(prefix="servable-") as staging:
        servable = Path(staging) / SERVABLE_DIR_NAME
        backend = build_servable(model_dir, servable)
        with run.registry.translated_errors(f"log the model to run {run.run_id}"), warnings.catch_warnings():
            # Advice that does not apply: the signature is given, so neither type hints nor an example are needed.
            warnings.filterwarnings("ignore", message=".*(Add type hints|An input example was not provided)")
            logged = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=SpamClassifierModel(),
                artifacts={SERVABLE_ARTIFACT: str(servable)},
                signature=model_signature(),
                pip_requirements=pip_requirements(backend),
            )
    operating_point = metrics["operating_point"]
    tags = {
        **figures.as_tags(),
        TAG_THRESHOLD: repr(operating_point["thresholds"]["combined"]),
        TAG_TRANSFORMER_THRESHOLD: repr(operating_point["thresholds"]["transformer"]),
        TAG_HAM_BLOCKED_BUDGET: repr(operating_point["ham_blocked_budget"]),
        **per_source_tags(operating_point.get("per_source", {})),
        TAG_MODEL_DIGEST: digest,
        TAG_GIT_REVISION: revision if dirty != "true" else f"{revision} (dirty)",
        TAG_DEFAULT_BACKEND: backend,
    }
    version = run.registry.register(logged.model_uri, run_id=run.run_id, tags=tags)
    run.set_tags({"registered_version": version, TAG_MODEL_DIGEST: digest})
    _logger.info(
        "registered %s version %s (digest %s, backend %s, int8 rule %s) from run %s",
        run.registry.name,
        version,
        digest,
        backend,
        tags[TAG_INT8_RULE],
        run.run_id,
    )
    return version
