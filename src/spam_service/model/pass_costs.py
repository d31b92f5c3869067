"""What a forward pass costs on the machine the service runs on, measured when a model is loaded.

The classifier groups texts into passes (`plan_forward_passes`): one large pass pads every text to the longest,
many small ones pay a fixed cost each. Where the balance lies depends on the CPU, not on the model alone: ONNX
Runtime int8 MiniLM ran fastest at 4-8 texts a pass on an Intel Xeon with AVX-512 VNNI (437 texts/s, 377 at 32),
at 32 on an AMD EPYC with dynamic int8, and at 4 there with static int8. So the costs are measured here, at load,
on the engine as it will serve: passes of 1, 4 and 16 copies of a typical SMS (about 24 tokens), the fastest of
three runs each (~0.4 s for int8 MiniLM on this AMD EPYC).

From them: the largest pass worth running (the smallest size within 10% of the lowest time per text; the
configured batch size when that is the largest measured), and the fixed cost of a pass in tokens (a straight line
through time against texts per pass, over the passes up to that size). On the whole test split, sorted by length,
the static int8 model here (AMD EPYC) ran best at 4 texts a pass (`python -m bench.ceiling`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from spam_service.model.classifier import SpamClassifier

# About the test split's mean (26.8 tokens with the special ones).
CALIBRATION_TEXT = "Your parcel could not be delivered today: confirm your address at the link below to rebook it"
CALIBRATION_SIZES = (1, 4, 16)
REPEATS = 3
NEAR_BEST = 0.10


@dataclass(frozen=True, slots=True)
class PassCosts:
    overhead_tokens: float  # a pass's fixed cost, in padded tokens' worth of work
    max_texts: int  # most texts per pass
    seconds_per_pass: dict[int, float] = field(default_factory=dict)  # texts per pass -> measured seconds
    measured: bool = False


def default_pass_costs(batch_size: int) -> PassCosts:
    """Before measuring (or for a classifier never measured): cost model of an AMD EPYC, ONNX Runtime int8."""
    return PassCosts(overhead_tokens=32.0, max_texts=batch_size)


def measure_pass_costs(classifier: SpamClassifier) -> PassCosts:
    """Time the classifier's engine on passes of CALIBRATION_SIZES copies of CALIBRATION_TEXT (call after a warm-up
    pass, from the thread that will not be serving meanwhile)."""
    tokens = classifier.tokenizer.encode([CALIBRATION_TEXT])[0]
    sizes = sorted({min(n, classifier.batch_size) for n in CALIBRATION_SIZES})
    seconds: dict[int, float] = {}
    for n in sizes:
        batch = classifier.tokenizer.pad([tokens] * n)
        best = float("inf")
        for _ in range(REPEATS):
            started = time.perf_counter()
            classifier.engine.logits(batch)
            best = min(best, time.perf_counter() - started)
        seconds[n] = best
    return pass_costs_from(seconds, tokens_per_text=len(tokens.ids), batch_size=classifier.batch_size)


def pass_costs_from(seconds: dict[int, float], *, tokens_per_text: int, batch_size: int) -> PassCosts:
    """The cost model from measured seconds per pass of n texts of `tokens_per_text` tokens."""
    sizes = sorted(seconds)
    if len(sizes) < 2:
        return PassCosts(overhead_tokens=0.0, max_texts=batch_size, seconds_per_pass=dict(seconds), measured=True)
    # The smallest pass within NEAR_BEST of the best time per text: close figures are noise, and smaller passes
    # waste less on padding when lengths vary (the measurement uses one length).
    best = min(seconds[n] / n for n in sizes)
    chosen = next(n for n in sizes if seconds[n] / n <= best * (1 + NEAR_BEST))
    max_texts = batch_size if chosen == sizes[-1] else chosen
    # The line through the passes that will run (up to the chosen size, at least two points): past it a pass can cost
    # more than linearly (int8 on an AMD EPYC: 16 texts 5.4 ms each, 4 texts 3.9), which would tilt a line through
    # every point to no fixed cost at all, and the planner would then run every text of random lengths alone.
    fitted = [n for n in sizes if n <= max(chosen, sizes[1])]
    per_text, fixed = np.polyfit(fitted, [seconds[n] for n in fitted], 1)  # seconds = fixed + per_text x n
    seconds_per_token = max(per_text, 1e-12) / tokens_per_text
    overhead_tokens = float(np.clip(fixed / seconds_per_token, 0.0, 4096.0))
    return PassCosts(
        overhead_tokens=round(overhead_tokens, 1), max_texts=max_texts, seconds_per_pass=dict(seconds), measured=True
    )
