"""The served tokenizer (`tokenizers` from tokenizer.json) encodes exactly as transformers' AutoTokenizer, which
the model was trained with."""

from pathlib import Path

import numpy as np
import pytest

from spam_service.model.tokenization import TextTokenizer

TEXTS = [
    "Ok lar... Joking wif u oni...",
    "WINNER!! £900 prize reward! Call 09061701461 NOW",
    "",
    "😀 émoji and ÀCCENTS, 中文",
    "free " * 300,  # truncated
    "  spaces\tand\nnewlines  ",
]


@pytest.mark.parametrize("model", ["tiny_bert_dir", "tiny_distilbert_dir", "trained_model_dir"])
def test_encodings_match_autotokenizer(model, request):
    from transformers import AutoTokenizer

    directory: Path = request.getfixturevalue(model)
    tokenizer = TextTokenizer.load(directory, max_tokens=32)
    encoded = tokenizer.encode(TEXTS)
    arrays = tokenizer.pad(encoded)
    reference = AutoTokenizer.from_pretrained(directory, local_files_only=True)(
        TEXTS, truncation=True, max_length=32, padding=True, return_tensors="np"
    )
    for name in ("input_ids", "attention_mask"):
        np.testing.assert_array_equal(arrays[name], reference[name])
    if "token_type_ids" in reference:
        np.testing.assert_array_equal(arrays["token_type_ids"], reference["token_type_ids"])
    assert [len(t.ids) for t in encoded] == reference["attention_mask"].sum(axis=1).tolist()
    assert [t.truncated for t in encoded] == [False, False, False, False, True, False]


def test_each_batch_pads_to_its_own_longest_text(tiny_bert_dir):
    tokenizer = TextTokenizer.load(tiny_bert_dir, max_tokens=64)
    short, longer = tokenizer.encode(["free prize", "free prize call now txt stop"])
    assert tokenizer.pad([short])["input_ids"].shape == (1, 4)  # [CLS] free prize [SEP]
    assert tokenizer.pad([short, longer])["input_ids"].shape == (2, 8)
    assert tokenizer.pad([short, longer])["attention_mask"].sum(axis=1).tolist() == [4, 8]
