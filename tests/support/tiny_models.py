"""Tiny randomly initialised checkpoints built on the fly: the code paths of real models in milliseconds."""

from pathlib import Path

from spam_service.model.labels import ID2LABEL, LABEL2ID

VOCABULARY = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    *"free win won prize call now txt text claim cash urgent reply stop www com".split(),
    *"hello see you at lunch tomorrow ok love mum are how home later thanks".split(),
    *"abcdefghijklmnopqrstuvwxyz0123456789.,!?".replace("", " ").split(),
]  # fmt: skip


def write_vocabulary(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "vocab.txt"
    path.write_text("\n".join(VOCABULARY) + "\n", encoding="utf-8")
    return path


def build_tiny_checkpoint(directory: Path, kind: str = "distilbert", *, max_positions: int = 64) -> Path:
    """Save a random `kind` ("distilbert" or "bert") sequence classifier with a WordPiece tokenizer."""
    import torch
    import transformers

    torch.manual_seed(0)
    vocab = write_vocabulary(directory / "_vocab")
    common = {"vocab_size": len(VOCABULARY), "max_position_embeddings": max_positions}
    labels = {"id2label": ID2LABEL, "label2id": LABEL2ID}
    if kind == "distilbert":
        tokenizer = transformers.DistilBertTokenizer(vocab=str(vocab))
        config = transformers.DistilBertConfig(dim=32, n_layers=1, n_heads=2, hidden_dim=64, **common, **labels)
        model = transformers.DistilBertForSequenceClassification(config)
    elif kind == "bert":
        tokenizer = transformers.BertTokenizer(vocab=str(vocab))
        config = transformers.BertConfig(
            hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, **common, **labels
        )
        model = transformers.BertForSequenceClassification(config)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


# What the tiny models calibrate on: words of their vocabulary, several lengths.
CALIBRATION_TEXTS = [
    "free prize call now",
    "hello mum see you at lunch tomorrow",
    "urgent txt claim cash www com reply stop",
    "ok love you",
    "how are you home later thanks",
    "won",
]


def export_tiny_onnx(directory: Path, int8_recipe: str = "static") -> dict:
    """The pipeline's onnx stage on a tiny checkpoint, writing into its `onnx/` as the export lays it out: fp32,
    one static and one dynamic int8 candidate, `int8_recipe` installed as model.int8.onnx."""
    import shutil

    from spam_service.model.artifact import ONNX_DIR, ONNX_FILES, int8_candidate_path
    from spam_service.pipeline.onnx_export import export_onnx
    from spam_service.pipeline.quantization import Int8Recipe

    recipes = [Int8Recipe("static", "static", calibration="minmax"), Int8Recipe("dynamic", "dynamic")]
    onnx_dir = directory / ONNX_DIR
    report = export_onnx(
        directory,
        onnx_dir,
        recipes,
        calibration_texts=CALIBRATION_TEXTS,
        sensitivity_texts=CALIBRATION_TEXTS,
        max_tokens=16,
    )
    shutil.copyfile(int8_candidate_path(onnx_dir, int8_recipe), onnx_dir / ONNX_FILES["onnx-int8"])
    return report
