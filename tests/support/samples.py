"""Sample messages: two real-looking ones, a synthetic data set, and reading a local request log back."""

import json
import random
from pathlib import Path

from spam_service.pipeline.dataset import Example

SPAM = "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply, reply STOP to end"
HAM = "Hey, are we still meeting for lunch tomorrow at 1? Let me know"


def read_request_log(directory: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(directory.glob("*.jsonl")) for line in path.open(encoding="utf-8")]


SPAM_WORDS = "free win prize cash claim urgent txt".split()
HAM_WORDS = "hello see you lunch tomorrow love mum home".split()


def synthetic(count: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    examples = []
    for i in range(count):
        label = "spam" if i % 3 == 0 else "ham"
        words = SPAM_WORDS if label == "spam" else HAM_WORDS
        examples.append(Example(" ".join(rng.choices(words, k=rng.randint(2, 8))), label))
    return examples
