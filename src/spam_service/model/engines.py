"""Inference engines: what turns a tokenized batch into logits. The classifier owns tokenization, batching and
the baseline combination; an engine only runs the network.

- `torch`: the Hugging Face checkpoint itself (safetensors), fp32.
- `onnx`: the same network exported to ONNX (`onnx/model.onnx`), run by ONNX Runtime, fp32.
- `onnx-int8`: that export quantised to int8 (`onnx/model.int8.onnx`), by the recipe the pipeline's evaluate
  stage chose among its candidates (`pipeline.quantization`, reports/backends.json): 1.4-2.9x fp32 on CPU.

`auto` picks what the export stage recorded as `default_backend` in serving.json, or `torch` when the model
directory has no ONNX files (a checkpoint that was never exported, or a test model).

torch and onnxruntime are imported when an engine is built, so importing this module stays cheap, and the ONNX
engines never import torch at all (less memory, faster start).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from spam_service.errors import ModelLoadError, first_line
from spam_service.model.artifact import onnx_path

Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[Backend, ...] = ("torch", "onnx", "onnx-int8")
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")  # what the tokenizer gives; models take a subset


class Engine(Protocol):
    backend: Backend

    def logits(self, encoded: Mapping[str, np.ndarray]) -> np.ndarray:
        """Logits (batch x labels, float32) for the tokenizer's int64 arrays (`TextTokenizer.pad`)."""
        ...


class TorchEngine:
    backend: Backend = "torch"

    def __init__(self, model: Any) -> None:
        import torch

        self._torch = torch
        self.model = model.eval()
        self.input_names = [name for name in inspect.signature(model.forward).parameters if name in INPUT_NAMES]

    @classmethod
    def load(cls, model_dir: Path, *, threads: int | None) -> TorchEngine:
        import torch
        from transformers import AutoModelForSequenceClassification

        if threads:
            torch.set_num_threads(threads)  # process-wide: the only torch work in the service is this engine
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bars in the service log
        model = AutoModelForSequenceClassification.from_pretrained(
            model_dir, local_files_only=True, dtype=torch.float32
        )
        return cls(model)

    def logits(self, encoded: Mapping[str, np.ndarray]) -> np.ndarray:
        inputs = {name: self._torch.from_numpy(encoded[name]) for name in self.input_names}
        with self._torch.inference_mode():
            return self.model(**inputs).logits.float().numpy()


class OnnxEngine:
    def __init__(self, session: Any, backend: Backend) -> None:
        self.session = session
        self.backend = backend
        # Feed exactly the inputs the graph declares (DistilBERT has no token_type_ids).
        self.input_names = [i.name for i in session.get_inputs()]

    @classmethod
    def load(cls, path: Path, backend: Backend, *, threads: int | None) -> OnnxEngine:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = threads
        # Spinning threads burn CPU between batches that the event loop and the request log need on a small box.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # warnings about unused initializers are noise to operators
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return cls(session, backend)

    def logits(self, encoded: Mapping[str, np.ndarray]) -> np.ndarray:
        feed = {name: np.asarray(encoded[name], dtype=np.int64) for name in self.input_names}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


def resolve_backend(requested: str, model_dir: Path, default: str | None) -> Backend:
    """The backend to load for `requested` (`auto` or one of BACKENDS)."""
    if requested == "auto":
        if default in BACKENDS and (default == "torch" or onnx_path(model_dir, default).is_file()):
            return default  # type: ignore[return-value]
        return "torch"
    if requested not in BACKENDS:
        raise ModelLoadError(f"INFERENCE_BACKEND={requested!r} is unknown; use auto, {', '.join(BACKENDS)}")
    return requested  # type: ignore[return-value]


def load_engine(model_dir: Path, backend: Backend, *, threads: int | None, onnx_file: Path | None = None) -> Engine:
    """`backend`'s engine for the model directory; `onnx_file` runs that ONNX file instead of the directory's (the
    pipeline's candidates)."""
    if backend == "torch":
        return TorchEngine.load(model_dir, threads=threads)
    path = onnx_file or onnx_path(model_dir, backend)
    if not path.is_file():
        raise ModelLoadError(
            f"INFERENCE_BACKEND={backend} needs {path}, which is missing: export the model with `dvc repro` "
            "(stage onnx), or use INFERENCE_BACKEND=torch"
        )
    try:
        return OnnxEngine.load(path, backend, threads=threads)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types: one line for the operator
        raise ModelLoadError(f"{path} is broken ({first_line(exc)}): re-export it with `dvc repro`") from exc
