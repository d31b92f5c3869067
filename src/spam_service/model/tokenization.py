"""The model's tokenizer as served: the `tokenizers` (Rust) tokenizer from the exported `tokenizer.json`, with
truncation at MAX_TOKENS. Texts are encoded unpadded, so that the classifier can group them by length first;
`pad` then pads one group to its own longest text.

Not transformers' AutoTokenizer: importing it imports torch (about 1.3 s and 200 MB), which the ONNX engines
otherwise never need. `tokenizer.json` holds the whole pipeline transformers applies (normalizer, pre-tokenizer,
WordPiece, special-token template); tests check that the encodings match AutoTokenizer's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spam_service.errors import REPRODUCE_HINT, ModelLoadError
from spam_service.model.artifact import TOKENIZER_CONFIG_FILE, TOKENIZER_FILE


@dataclass(frozen=True, slots=True)
class Tokens:
    ids: list[int]  # special tokens included
    type_ids: list[int]
    truncated: bool


class TextTokenizer:
    def __init__(self, tokenizer_json: str, *, pad_token: str, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_str(tokenizer_json)
        pad_id = self._tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ModelLoadError(f"the tokenizer has no padding token {pad_token!r} in its vocabulary")
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self.pad_id = pad_id

    @classmethod
    def load(cls, model_dir: Path, *, max_tokens: int) -> TextTokenizer:
        path = model_dir / TOKENIZER_FILE
        if not path.is_file():
            raise ModelLoadError(f"model at {model_dir}/ has no fast tokenizer ({TOKENIZER_FILE}): {REPRODUCE_HINT}")
        config_path = model_dir / TOKENIZER_CONFIG_FILE
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        pad_token = config.get("pad_token") or "[PAD]"
        if isinstance(pad_token, dict):  # older transformers save AddedToken objects
            pad_token = pad_token["content"]
        return cls(path.read_text(encoding="utf-8"), pad_token=pad_token, max_tokens=max_tokens)

    def encode(self, texts: Sequence[str]) -> list[Tokens]:
        return [
            Tokens(ids=e.ids, type_ids=e.type_ids, truncated=bool(e.overflowing))
            for e in self._tokenizer.encode_batch(list(texts))
        ]

    def pad(self, batch: Sequence[Tokens]) -> dict[str, np.ndarray]:
        """input_ids, attention_mask and token_type_ids (int64, texts x longest text), padded on the right."""
        longest = max(len(t.ids) for t in batch)
        input_ids = np.full((len(batch), longest), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(batch), longest), dtype=np.int64)
        token_type_ids = np.zeros((len(batch), longest), dtype=np.int64)
        for row, tokens in enumerate(batch):
            n = len(tokens.ids)
            input_ids[row, :n] = tokens.ids
            attention_mask[row, :n] = 1
            token_type_ids[row, :n] = tokens.type_ids
        return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
