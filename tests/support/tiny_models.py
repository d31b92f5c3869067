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
