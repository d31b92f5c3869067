"""Where the pipeline's stages read and write, relative to the repository root (where `dvc repro` runs them).

The one table of these paths: every stage names them from here, and tests/pipeline/test_dvc_stages.py checks that
each data path in dvc.yaml is one of them. A path only one stage knows (prepare's summary.json, the onnx stage's
export.json) stays in that stage.
"""

from pathlib import Path

from spam_service.pipeline.params import PARAMS_FILE, load_params

PREPARED_DIR = Path("data/prepared")
PROBE_PATH = Path("data/probe/modern_sms.tsv")  # modern SMS written for this project, read by evaluate
FEEDBACK_DIR = Path("data/feedback")  # texts labelled by /feedback, exported from the prediction store; accumulates
FEEDBACK_DATASET = FEEDBACK_DIR / "feedback.jsonl"
FEEDBACK_SUMMARY = FEEDBACK_DIR / "summary.json"

BASELINE_PATH = Path("models/baseline.joblib")
CHECKPOINT_DIR = Path("models/checkpoint")
TRAINING_SUMMARY_FILE = "training.json"  # in the checkpoint, beside the Hugging Face files; the export keeps it
ONNX_OUT_DIR = Path("models/onnx")  # model.onnx and model.int8.onnx, named as in the export's onnx/

REPORTS_DIR = Path("reports")
METRICS_REPORT = REPORTS_DIR / "metrics.json"
BACKENDS_REPORT = REPORTS_DIR / "backends.json"
CONFUSION_MATRIX_PLOT = REPORTS_DIR / "confusion_matrix.png"
CLASSIFICATION_REPORT = REPORTS_DIR / "classification_report.txt"
ERRORS_REPORT = REPORTS_DIR / "errors.jsonl"
PROBE_PREDICTIONS = REPORTS_DIR / "probe_predictions.jsonl"  # every probe message with its scores
PRECISION_RECALL_PLOT = REPORTS_DIR / "precision_recall.png"
ROC_PLOT = REPORTS_DIR / "roc.png"
RELIABILITY_PLOT = REPORTS_DIR / "reliability.png"

WEIGHTS_DIR = Path("weights")


def raw_collection(params_file: Path = PARAMS_FILE) -> Path:
    """The SMS Spam Collection that prepare splits: a parameter (`prepare.raw`), so another copy needs no code."""
    return Path(load_params("prepare", params_file)["raw"])


def modern_collection(params_file: Path = PARAMS_FILE) -> Path:
    """The synthetic modern SMS that prepare adds to every split (`prepare.modern`; see data/modern/README.md)."""
    return Path(load_params("prepare", params_file)["modern"])


def split_path(name: str, prepared_dir: Path = PREPARED_DIR) -> Path:
    """The JSON-lines file of one split: `train`, `validation` or `test`, as `dataset.split_examples` names them."""
    return prepared_dir / f"{name}.jsonl"


def export_dir(model_name: str) -> Path:
    """The serving artifact of the model named `model.name` in params.yaml."""
    return WEIGHTS_DIR / model_name
