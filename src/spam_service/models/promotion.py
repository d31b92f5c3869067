"""The promotion gate: when a registered version may become `champion`.

A candidate is refused when, on the test split,
- its spam F1 is below the lower end of the champion's 95% bootstrap interval for spam F1, or
- its ham-blocked rate (ham wrongly marked spam) is above the upper end of the champion's interval for it, or
- it serves its int8 ONNX copy by default and that copy's served test spam F1 is more than 0.005 below torch
  fp32's. The evaluate stage chooses the default by a stricter rule on validation and the probe
  (`spam_service.pipeline.backend_rule`: 0.003 spam F1, 0.1 point of ham blocked, every validation source within
  the ham budget, batch-independent labels), so
  an export only serves int8 where that holds; this check is the registry's own, on the test split, for versions
  however they were made. A version that serves fp32 is not refused for its int8 copy.
With no champion yet only the int8 rule applies. A difference inside the champion's interval is noise (one test
message moves spam F1 by ~0.003), so it does not block. `challenger` is not gated: it only shadow-scores.

The figures come from the version's tags, written by the export stage when it registers the version
(`GateFigures.as_tags`). `--force` overrides a refusal; the override is recorded as tags on the version.
"""

from __future__ import annotations

import getpass
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from spam_service.errors import SpamServiceError
from spam_service.models.registry import ModelRegistry, RegisteredVersion

_logger = logging.getLogger(__name__)

GATED_ALIAS = "champion"
INT8_F1_TOLERANCE = 0.005  # test spam F1 an int8 default may give up against torch fp32
INT8_BACKEND, FP32_BACKEND = "onnx-int8", "torch"

# Version tags the export stage writes and the gate reads.
TAG_SPAM_F1 = "test.spam_f1"
TAG_SPAM_F1_LOW = "test.spam_f1.ci95_low"
TAG_SPAM_F1_HIGH = "test.spam_f1.ci95_high"
TAG_HAM_BLOCKED = "test.ham_blocked_rate"
TAG_HAM_BLOCKED_LOW = "test.ham_blocked_rate.ci95_low"
TAG_HAM_BLOCKED_HIGH = "test.ham_blocked_rate.ci95_high"
TAG_INT8_SPAM_F1 = "int8_rule.int8_spam_f1"
TAG_FP32_SPAM_F1 = "int8_rule.fp32_spam_f1"
TAG_INT8_DIFFERENCE = "int8_rule.difference"
TAG_INT8_RULE = "int8_rule"  # "pass" or "fail"
TAG_DEFAULT_BACKEND = "default_backend"  # the backend the version serves (publication sets it)
TAG_MODEL_DIGEST = "model_version"  # serving.json's version: the weights digest
TAG_GIT_REVISION = "git_revision"
# Written by a forced promotion.
TAG_FORCED = "promotion.forced"
TAG_FORCED_ALIAS = "promotion.forced.alias"
TAG_FORCED_REASONS = "promotion.forced.reasons"
TAG_FORCED_AT = "promotion.forced.at"
TAG_FORCED_BY = "promotion.forced.by"


@dataclass(frozen=True, slots=True)
class GateFigures:
    """What the gate compares, for one model version: test-split figures with their 95% intervals, and the int8
    copy's served spam F1 against torch fp32's."""

    spam_f1: float
    spam_f1_low: float
    spam_f1_high: float
    ham_blocked_rate: float
    ham_blocked_low: float
    ham_blocked_high: float
    int8_spam_f1: float
    fp32_spam_f1: float
    default_backend: str = INT8_BACKEND  # what the version serves; a version tagged before this was recorded: int8

    @property
    def int8_difference(self) -> float:
        return round(self.int8_spam_f1 - self.fp32_spam_f1, 6)  # rounded: 0.9716 - 0.9766 must not read -0.00500001

    @property
    def int8_passes(self) -> bool:
        return self.int8_difference >= -INT8_F1_TOLERANCE

    @classmethod
    def from_reports(cls, metrics: dict[str, Any], backends: dict[str, Any]) -> GateFigures:
        """From reports/metrics.json (served model at top level, intervals under ci95) and reports/backends.json."""
        interval = metrics["ci95"]
        served = backends["backends"]
        return cls(
            spam_f1=float(metrics["spam_f1"]),
            spam_f1_low=float(interval["spam_f1"]["low"]),
            spam_f1_high=float(interval["spam_f1"]["high"]),
            ham_blocked_rate=float(metrics["ham_blocked_rate"]),
            ham_blocked_low=float(interval["ham_blocked_rate"]["low"]),
            ham_blocked_high=float(interval["ham_blocked_rate"]["high"]),
            int8_spam_f1=float(served[INT8_BACKEND]["served"]["spam_f1"]),
            fp32_spam_f1=float(served[FP32_BACKEND]["served"]["spam_f1"]),
            default_backend=backends["default_backend"],
        )

    def as_tags(self) -> dict[str, str]:
        return {
            TAG_SPAM_F1: repr(self.spam_f1),
            TAG_SPAM_F1_LOW: repr(self.spam_f1_low),
            TAG_SPAM_F1_HIGH: repr(self.spam_f1_high),
            TAG_HAM_BLOCKED: repr(self.ham_blocked_rate),
            TAG_HAM_BLOCKED_LOW: repr(self.ham_blocked_low),
            TAG_HAM_BLOCKED_HIGH: repr(self.ham_blocked_high),
            TAG_INT8_SPAM_F1: repr(self.int8_spam_f1),
            TAG_FP32_SPAM_F1: repr(self.fp32_spam_f1),
            TAG_INT8_DIFFERENCE: repr(self.int8_difference),
            TAG_INT8_RULE: "pass" if self.int8_passes else "fail",
        }

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> GateFigures | None:
        """The figures in a version's tags; None when any is missing or not a number (not registered by export)."""
        names = {
            "spam_f1": TAG_SPAM_F1,
            "spam_f1_low": TAG_SPAM_F1_LOW,
            "spam_f1_high": TAG_SPAM_F1_HIGH,
            "ham_blocked_rate": TAG_HAM_BLOCKED,
            "ham_blocked_low": TAG_HAM_BLOCKED_LOW,
            "ham_blocked_high": TAG_HAM_BLOCKED_HIGH,
            "int8_spam_f1": TAG_INT8_SPAM_F1,
            "fp32_spam_f1": TAG_FP32_SPAM_F1,
        }
        try:
            values = {field: float(tags[tag]) for field, tag in names.items()}
        except (KeyError, ValueError):
            return None
        if not all(math.isfinite(v) for v in values.values()):
            return None
        return cls(**values, default_backend=tags.get(TAG_DEFAULT_BACKEND, INT8_BACKEND))


def promotion_refusals(candidate: GateFigures, champion: GateFigures | None) -> list[str]:
    """Why `candidate` may not become champion over `champion` (None: there is none yet); empty: it may."""
    refusals = []
    if champion is not None:
        if candidate.spam_f1 < champion.spam_f1_low:
            refusals.append(
                f"test spam F1 {candidate.spam_f1:.4f} is below the champion's 95% interval "
                f"[{champion.spam_f1_low:.4f}, {champion.spam_f1_high:.4f}]"
            )
        if candidate.ham_blocked_rate > champion.ham_blocked_high:
            refusals.append(
                f"ham-blocked rate {candidate.ham_blocked_rate:.4f} is above the champion's 95% interval "
                f"[{champion.ham_blocked_low:.4f}, {champion.ham_blocked_high:.4f}]"
            )
    if candidate.default_backend == INT8_BACKEND and not candidate.int8_passes:
        refusals.append(
            f"int8 rule broken: onnx-int8 served spam F1 {candidate.int8_spam_f1:.4f} is "
            f"{-candidate.int8_difference:.4f} below torch fp32's {candidate.fp32_spam_f1:.4f} "
            f"(allowed {INT8_F1_TOLERANCE})"
        )
    return refusals


def version_refusals(candidate: RegisteredVersion, champion: RegisteredVersion | None) -> list[str]:
    """`promotion_refusals` for registered versions, refusing when a version's tags lack the figures."""
    figures = GateFigures.from_tags(candidate.tags)
    if figures is None:
        return [f"version {candidate.version} has no test metrics in its tags (not registered by the export stage)"]
    if champion is None or champion.version == candidate.version:
        return promotion_refusals(figures, None)
    champion_figures = GateFigures.from_tags(champion.tags)
    if champion_figures is None:
        return [f"the champion (version {champion.version}) has no test metrics in its tags to compare against"]
    return promotion_refusals(figures, champion_figures)


class PromotionRefused(SpamServiceError):
    """The gate refused; `reasons` says why (each one a sentence)."""

    status_code = 409

    def __init__(self, version: str, alias: str, reasons: list[str]) -> None:
        super().__init__(f"version {version} not promoted to @{alias}: {'; '.join(reasons)} (--force overrides)")
        self.reasons = reasons


@dataclass(frozen=True, slots=True)
class Promotion:
    version: str
    alias: str
    previous: str | None  # the version the alias named before, if any
    overridden: list[str]  # refusals --force overrode; empty when the gate passed or was not applied


def operator() -> str:
    """The OS user running the command, for the record of a forced promotion."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


def promote(registry: ModelRegistry, version: str, alias: str, *, force: bool = False) -> Promotion:
    """Point `alias` at `version`. For `champion` the gate applies: raises PromotionRefused unless `force`, which
    overrides and is recorded as tags on the version. Raises UnknownModelVersionError, RegistryError."""
    candidate = registry.get(version)
    previous = registry.aliases().get(alias)
    overridden: list[str] = []
    if alias == GATED_ALIAS:
        champion = registry.get(previous) if previous is not None else None
        refusals = version_refusals(candidate, champion)
        if refusals and not force:
            raise PromotionRefused(candidate.version, alias, refusals)
        if refusals:
            overridden = refusals
            registry.set_version_tags(
                candidate.version,
                {
                    TAG_FORCED: "true",
                    TAG_FORCED_ALIAS: alias,
                    TAG_FORCED_REASONS: "; ".join(refusals),
                    TAG_FORCED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                    TAG_FORCED_BY: operator(),
                },
            )
    registry.set_alias(alias, candidate.version)
    if overridden:
        _logger.warning(
            "FORCED promotion of %s version %s to @%s by %s over: %s",
            registry.name,
            candidate.version,
            alias,
            operator(),
            "; ".join(overridden),
        )
    else:
        _logger.info("promoted %s version %s to @%s (was %s)", registry.name, candidate.version, alias, previous)
    return Promotion(candidate.version, alias, previous, overridden)
