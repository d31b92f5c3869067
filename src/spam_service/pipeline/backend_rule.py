"""The rule that chooses the served engine: the fastest backend as accurate as fp32, whose labels do not depend on
the texts sharing a pass.

The evaluate stage measures every backend and int8 candidate (reports/backends.json), all at the one operating
point serving.json serves (combination and threshold fitted on torch fp32's validation scores). A backend is
eligible when, on each of RULE_VIEWS (the validation split and the hand-written probe; the test split only
reports), the model as served (transformer + baseline) keeps spam F1 within F1_TOLERANCE of torch fp32's and ham
blocked within HAM_BLOCKED_TOLERANCE of it, no validation source's ham is flagged beyond the ham-blocked budget
(`over_budget`), and a text's spam probability stays within BATCH_TOLERANCE of its value alone whatever else is in
its pass. The promotion gate reads the same verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REFERENCE = "torch"  # fp32, the network as trained
F1_TOLERANCE = 0.003
HAM_BLOCKED_TOLERANCE = 0.001  # 0.1 point of the ham-blocked rate
BATCH_TOLERANCE = 1e-6
RULE_VIEWS = ("validation", "probe")

RULE_TEXT = (
    f"fastest backend whose served spam F1 is within {F1_TOLERANCE} and ham-blocked rate within "
    f"{HAM_BLOCKED_TOLERANCE} of torch fp32's on {' and '.join(RULE_VIEWS)} at the served operating point, that "
    f"keeps every validation source's ham within the budget, and whose probabilities move by at most "
    f"{BATCH_TOLERANCE} with the other texts of a pass"
)


def shortfalls(result: Mapping[str, Any], reference: Mapping[str, Any]) -> list[str]:
    """Why `result` (one backend's entry of backends.json) breaks the rule against `reference`; empty: it holds."""
    reasons = []
    if result["batch_max_difference"] > BATCH_TOLERANCE:
        reasons.append(
            f"a text's probability moves by up to {result['batch_max_difference']:.2g} with the texts beside it "
            f"(allowed {BATCH_TOLERANCE})"
        )
    for source, rate in result["over_budget"].items():
        reasons.append(f"validation {source} ham flagged {rate:.4f}, over the budget")
    for view in RULE_VIEWS:
        ours, fp32 = result["views"][view]["served"], reference["views"][view]["served"]
        # Rounded: 0.9842 - 0.9872 must not read as -0.00300001.
        if round(ours["spam_f1"] - fp32["spam_f1"], 6) < -F1_TOLERANCE:
            reasons.append(f"{view} spam F1 {ours['spam_f1']:.4f} against fp32's {fp32['spam_f1']:.4f}")
        if round(ours["ham_blocked_rate"] - fp32["ham_blocked_rate"], 6) > HAM_BLOCKED_TOLERANCE:
            reasons.append(
                f"{view} ham blocked {ours['ham_blocked_rate']:.4f} against fp32's {fp32['ham_blocked_rate']:.4f}"
            )
    return reasons


def choose_default_backend(results: Mapping[str, Mapping[str, Any]]) -> str:
    """The fastest eligible entry of `results` (name -> backends.json entry); the reference always is."""
    reference = results[REFERENCE]
    eligible = [name for name, result in results.items() if name == REFERENCE or not shortfalls(result, reference)]
    return max(eligible, key=lambda name: results[name]["texts_per_s"])


def choose_int8(candidates: Mapping[str, Mapping[str, Any]], reference: Mapping[str, Any]) -> str:
    """The int8 candidate served as `onnx-int8`: the fastest eligible one, else the one that breaks the rule least
    (fewest shortfalls, then the fastest)."""
    return min(
        candidates,
        key=lambda name: (len(shortfalls(candidates[name], reference)), -candidates[name]["texts_per_s"]),
    )
