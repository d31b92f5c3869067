"""Stage `train`: fine-tune a pretrained transformer as a spam/ham sequence classifier.

A plain PyTorch loop (no Trainer/accelerate): length-grouped batches with dynamic padding, AdamW with a linear
warm-up/decay schedule, validation a few times per epoch, early stopping on validation spam F1, and the best
weights kept. Writes a Hugging Face checkpoint (config, tokenizer, safetensors) plus `training.json`.

Starts the model's MLflow run (parameters, each validation check, the summary) and records its id beside the
checkpoint, for evaluate and export to log to the same run (`spam_service.models.tracking`, docs/lifecycle.md).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from spam_service.model.labels import ID2LABEL, LABEL2ID, SPAM
from spam_service.model.text import TEXT_NORMALIZATION_KEY, TextNormalizer
from spam_service.models.registry import RegistryError
from spam_service.models.tracking import StageRun, record_run, tracked_run
from spam_service.pipeline.augment import augment_text, messy_text
from spam_service.pipeline.base_models import PACKAGED_BASES, BaseModelError, resolve_base_model
from spam_service.pipeline.dataset import MODERN_SOURCE, Example, read_jsonl
from spam_service.pipeline.feedback_data import (
    FeedbackParams,
    feedback_examples,
    read_feedback,
    training_feedback,
    weighted_examples,
)
from spam_service.pipeline.params import load_params
from spam_service.pipeline.paths import CHECKPOINT_DIR, FEEDBACK_DATASET, TRAINING_SUMMARY_FILE, split_path
from spam_service.pipeline.scores import unrounded_metrics

_logger = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    base_model: str
    max_length: int = 128
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_epochs: int = 3
    min_epochs: float = 0.0  # checkpoints before this are not eligible (and do not count toward patience)
    evals_per_epoch: int = 2
    patience: int = 2
    select_on: str = "loss"  # "loss" (validation loss) or "spam_f1" (validation spam F1, loss breaks ties)
    spam_oversample: int = 1
    messy_copies: int = 0  # copies of each modern message (both labels) with typos, odd spacing, cut links...
    text_normalization: str = "basic"  # spam_service.model.text: "basic", or "variables" (digits, links masked)
    label_smoothing: float = 0.0
    ham_weight: float = 1.0  # loss weight of a ham message (above 1: false positives cost more)
    modern_weight: float = 1.0  # loss weight of a modern synthetic message (and of its copies)
    seed: int = 42
    threads: int | None = None


@dataclass
class EvalPoint:
    epoch: float
    step: int
    loss: float
    spam_f1: float
    accuracy: float


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def oversample_spam(examples: Sequence[Example], copies: int, rng: random.Random) -> list[Example]:
    """The examples plus `copies` augmented copies of each spam message."""
    extra = [replace(e, text=augment_text(e.text, rng)) for e in examples if e.label == SPAM for _ in range(copies)]
    return [*examples, *extra]


def messy_copies(examples: Sequence[Example], copies: int, rng: random.Random) -> list[Example]:
    """The examples plus `copies` messy copies (`augment.messy_text`) of each modern synthetic message."""
    extra = [
        replace(e, text=messy_text(e.text, rng)) for e in examples if e.source == MODERN_SOURCE for _ in range(copies)
    ]
    return [*examples, *extra]


def loss_weights(examples: Sequence[Example], config: TrainConfig) -> list[float]:
    """Each example's class and source weight (`ham_weight`, `modern_weight`)."""
    return [
        (config.ham_weight if e.label != SPAM else 1.0) * (config.modern_weight if e.source == MODERN_SOURCE else 1.0)
        for e in examples
    ]


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, sort within windows of 50 batches by length, then shuffle the batches.

    Batches of similar lengths pad little (the mean message is ~25 tokens, the longest ~200), which roughly
    halves training time on CPU while keeping batches random enough.
    """
    indices = list(range(len(lengths)))
    rng.shuffle(indices)
    window = batch_size * 50
    batches = []
    for start in range(0, len(indices), window):
        chunk = sorted(indices[start : start + window], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def load_base(base_model: str, num_labels: int = 2):
    """Tokenizer and a sequence-classification model with a fresh head, from a packaged alias, dir or hub id."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_base_model(base_model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(
            source, num_labels=num_labels, id2label=ID2LABEL, label2id=LABEL2ID, dtype=torch.float32
        )
    except OSError as exc:
        raise BaseModelError(
            f"cannot load base model {base_model!r} ({source}): it is neither a packaged alias "
            f"({', '.join(PACKAGED_BASES)}), a local directory, nor in the Hugging Face cache. "
            "Download it where the hub is reachable (`hf download <id>`) or point model.base at a local "
            "checkpoint directory."
        ) from exc
    if not tokenizer.is_fast:
        raise BaseModelError(f"base model {base_model!r} has no fast tokenizer; the service needs one")
    return tokenizer, model


def _better(point: EvalPoint, best: EvalPoint, select_on: str) -> bool:
    """Whether `point` beats `best`. Validation loss moves smoothly; spam F1 over ~75 validation spam moves in
    steps of ~0.007 and plateaus early, which stopped some seeds after one epoch, under-trained."""
    if select_on == "loss":
        return point.loss < best.loss
    if select_on == "spam_f1":
        return (point.spam_f1, -point.loss) > (best.spam_f1, -best.loss)
    raise ValueError(f"select_on must be 'loss' or 'spam_f1', not {select_on!r}")


def _evaluate(model, batches: list[dict], labels: list[int]) -> tuple[float, float, float]:
    """Mean loss, spam F1 and accuracy over pre-collated validation batches."""
    import torch

    model.eval()
    predictions: list[int] = []
    total_loss = 0.0
    with torch.inference_mode():
        for batch in batches:
            output = model(**batch)
            total_loss += float(output.loss) * len(batch["labels"])
            predictions.extend(output.logits.argmax(dim=-1).tolist())
    model.train()
    metrics = unrounded_metrics([ID2LABEL[y] for y in labels], [ID2LABEL[p] for p in predictions])
    return total_loss / len(labels), metrics["spam_f1"], metrics["accuracy"]


def train(
    train_examples: Sequence[Example],
    validation_examples: Sequence[Example],
    config: TrainConfig,
    out_dir: Path,
    *,
    progress: bool = True,
    on_evaluation: Callable[[EvalPoint], None] | None = None,
    extra_examples: Sequence[Example] = (),
    extra_weight: float = 1.0,
    excluded_reporters: Sequence[str] = (),
) -> dict[str, Any]:
    """Fine-tune, keep the best validation checkpoint, save it to `out_dir`; return the training history.
    `on_evaluation` is called with each validation point as it is measured (the MLflow run logs it).

    `extra_examples` (the feedback texts) are trained on beside `train_examples` with loss weight `extra_weight`
    each (a collection example weighs 1), and are not spam-oversampled: they are few, and their weight already
    says how much they count."""
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    _seed_everything(config.seed)
    rng = random.Random(config.seed)
    tokenizer, model = load_base(config.base_model)

    normalizer = TextNormalizer(config.text_normalization)
    augmented = messy_copies(oversample_spam(train_examples, config.spam_oversample, rng), config.messy_copies, rng)
    examples, weights = weighted_examples(augmented, extra_examples, extra_weight)
    weights = [w * c for w, c in zip(weights, loss_weights(examples, config), strict=True)]

    def encode(items: Sequence[Example]) -> list[dict[str, Any]]:
        encoded = tokenizer(normalizer.all([e.text for e in items]), truncation=True, max_length=config.max_length)
        rows = [{key: encoded[key][i] for key in encoded} for i in range(len(items))]
        for row, item in zip(rows, items, strict=True):
            row["labels"] = LABEL2ID[item.label]
        return rows

    def weighted_loss(batch: dict[str, Any], batch_weights: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each example times its weight, normalised by the batch's weight sum: with all weights
        1 it is the model's own mean loss."""
        labels = batch.pop("labels")
        logits = model(**batch).logits
        losses = torch.nn.functional.cross_entropy(
            logits, labels, reduction="none", label_smoothing=config.label_smoothing
        )
        return (losses * batch_weights).sum() / batch_weights.sum()

    def collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return tokenizer.pad(rows, return_tensors="pt")

    train_rows = encode(examples)  # weights[i] goes with train_rows[i]
    validation_rows = encode(validation_examples)
    order = sorted(range(len(validation_rows)), key=lambda i: len(validation_rows[i]["input_ids"]))
    validation_batches = [collate([validation_rows[i] for i in order[s : s + 64]]) for s in range(0, len(order), 64)]
    validation_labels = [validation_rows[i]["labels"] for i in order]
    lengths = [len(row["input_ids"]) for row in train_rows]

    steps_per_epoch = math.ceil(len(train_rows) / config.batch_size)
    total_steps = steps_per_epoch * config.max_epochs
    # Validate at exact fractions of an epoch (step -> epoch), so `min_epochs: 2` means the end of epoch 2.
    per_epoch = max(1, config.evals_per_epoch)
    eval_at = {
        round(k * steps_per_epoch / per_epoch): k / per_epoch for k in range(1, config.max_epochs * per_epoch + 1)
    }
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    grouped = [
        {
            "params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": config.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(grouped, lr=config.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)

    history: list[EvalPoint] = []
    best: EvalPoint | None = None
    best_state: dict[str, torch.Tensor] | None = None
    evals_without_gain = 0
    step = 0
    started = time.perf_counter()
    model.train()
    bar = tqdm(total=total_steps, desc="train", unit="step", disable=not progress, mininterval=1.0)
    stop = False
    for epoch in range(config.max_epochs):
        for batch_indices in length_grouped_batches(lengths, config.batch_size, rng):
            batch = collate([train_rows[i] for i in batch_indices])
            loss = weighted_loss(batch, torch.tensor([weights[i] for i in batch_indices], dtype=torch.float32))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}", refresh=False)
            if step not in eval_at:
                continue
            val_loss, val_f1, val_accuracy = _evaluate(model, validation_batches, validation_labels)
            point = EvalPoint(eval_at[step], step, val_loss, val_f1, val_accuracy)
            history.append(point)
            if on_evaluation is not None:
                on_evaluation(point)
            bar.write(
                f"  validation @ epoch {point.epoch:.2f}: loss {val_loss:.4f}  "
                f"spam F1 {val_f1:.4f}  accuracy {val_accuracy:.4f}"
            )
            if point.epoch < config.min_epochs:
                continue
            if best is None or _better(point, best, config.select_on):
                best, evals_without_gain = point, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                evals_without_gain += 1
                if evals_without_gain >= config.patience:
                    bar.write(f"  early stop: no better validation {config.select_on} for {config.patience} checks")
                    stop = True
                    break
        if stop:
            break
    bar.close()
    assert best is not None and best_state is not None
    model.load_state_dict(best_state)

    out_dir.mkdir(parents=True, exist_ok=True)
    setattr(model.config, TEXT_NORMALIZATION_KEY, normalizer.mode)  # read back by every loader (model.text)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    summary = {
        "base_model": config.base_model,
        "config": asdict(config),
        "train_examples": len(train_examples),
        "train_rows_with_oversampling": len(train_rows),
        "feedback": {
            "rows": len(extra_examples),
            "weight": extra_weight,
            "excluded_reporters": list(excluded_reporters),
        },
        "steps": step,
        "seconds": round(time.perf_counter() - started, 1),
        "best": asdict(best),
        "history": [asdict(p) for p in history],
    }
    (out_dir / TRAINING_SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def log_validation(run: StageRun, point: EvalPoint) -> None:
    """One validation check as MLflow metrics at its training step."""
    metrics = {"loss": point.loss, "spam_f1": point.spam_f1, "accuracy": point.accuracy, "epoch": point.epoch}
    run.log_metrics({f"validation.{name}": value for name, value in metrics.items()}, step=point.step)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params("train")
    model = load_params("model")
    feedback = FeedbackParams.load()
    config = TrainConfig(base_model=model["base"], **params)
    excluded = list(feedback.exclude_reporters)
    feedback_rows = training_feedback(read_feedback(FEEDBACK_DATASET), excluded)
    try:
        with tracked_run("train", start=True, run_name=model.get("name")) as run:
            run.log_params(
                {
                    "feedback.rows": len(feedback_rows),
                    "feedback.weight": feedback.weight,
                    "feedback.excluded_reporters": ",".join(excluded) or "-",
                }
            )
            summary = train(
                read_jsonl(split_path("train")),
                read_jsonl(split_path("validation")),
                config,
                CHECKPOINT_DIR,
                on_evaluation=lambda point: log_validation(run, point),
                extra_examples=feedback_examples(feedback_rows),
                extra_weight=feedback.weight,
                excluded_reporters=excluded,
            )
            best = summary["best"]
            run.log_metrics({f"best_validation.{k}": best[k] for k in ("loss", "spam_f1", "accuracy", "epoch")})
            run.log_metrics({"training.steps": summary["steps"], "training.seconds": summary["seconds"]})
            run.log_artifact(CHECKPOINT_DIR / TRAINING_SUMMARY_FILE)
            record_run(run, CHECKPOINT_DIR)
    except (BaseModelError, RegistryError) as exc:
        raise SystemExit(f"train: {exc}") from exc
    _logger.info(
        "trained %s in %.0f s; best validation spam F1 %.4f at epoch %.2f (MLflow run %s)",
        config.base_model,
        summary["seconds"],
        summary["best"]["spam_f1"],
        summary["best"]["epoch"],
        run.run_id,
    )


if __name__ == "__main__":
    main()
