"""`python -m spam_service.models list | promote VERSION --alias champion|challenger [--force] | current`:
the registered versions of `spam-classifier` and their aliases.

The store is MLFLOW_TRACKING_URI's (or --tracking-uri); unset, the local one under mlruns/ that `dvc repro` writes.
Exit status: 0 done, 1 refused or failed (the reason on stderr, one line), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import logging
import sys

from spam_service.models.promotion import (
    GATED_ALIAS,
    INT8_F1_TOLERANCE,
    TAG_FORCED,
    TAG_HAM_BLOCKED,
    TAG_HAM_BLOCKED_HIGH,
    TAG_HAM_BLOCKED_LOW,
    TAG_INT8_DIFFERENCE,
    TAG_INT8_RULE,
    TAG_MODEL_DIGEST,
    TAG_SPAM_F1,
    TAG_SPAM_F1_HIGH,
    TAG_SPAM_F1_LOW,
    PromotionRefused,
    promote,
)
from spam_service.models.registry import (
    ALIASES,
    REGISTERED_MODEL,
    ModelRegistry,
    RegisteredVersion,
    RegistryError,
    masked_uri,
    set_fast_failure_defaults,
)

PROMOTE_HELP = (
    "point an alias at a version. @champion (what services serving models:/spam-classifier@champion load) is "
    "gated: refused when the version's test spam F1 is below the champion's 95%% interval, its ham-blocked rate "
    f"above it, or its int8 copy loses more than {INT8_F1_TOLERANCE} spam F1 against fp32. @challenger is not "
    "gated: it only shadow-scores a sample of traffic, its verdicts are never returned"
)


def _version(value: str) -> str:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a version number: `list` shows them (1, 2, ...)")
    return str(int(value))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spam_service.models", description=__doc__.split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument(
        "--tracking-uri", help="the MLflow store (default: MLFLOW_TRACKING_URI, else sqlite:///mlruns/mlflow.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every version: aliases, test metrics with 95%% intervals, int8 rule, digest")
    promote_parser = commands.add_parser("promote", help=PROMOTE_HELP, description=PROMOTE_HELP.replace("%%", "%"))
    promote_parser.add_argument("version", type=_version, help="the version number, e.g. 3")
    promote_parser.add_argument("--alias", required=True, choices=ALIASES)
    promote_parser.add_argument(
        "--force",
        action="store_true",
        help="promote to @champion despite the gate; recorded as tags on the version (who, when, what was overridden)",
    )
    commands.add_parser("current", help="each alias and the version (and weights digest) it names")
    return parser


def _figure(tags: dict[str, str], value: str, low: str, high: str) -> str:
    try:
        return f"{float(tags[value]):.4f} [{float(tags[low]):.4f}-{float(tags[high]):.4f}]"
    except (KeyError, ValueError):
        return "-"


def _int8_rule(tags: dict[str, str]) -> str:
    if TAG_INT8_RULE not in tags:
        return "-"
    return f"{tags[TAG_INT8_RULE]} ({tags.get(TAG_INT8_DIFFERENCE, '?')})"


def format_versions(versions: list[RegisteredVersion]) -> str:
    header = ("version", "aliases", "test spam F1 [95% CI]", "ham blocked [95% CI]", "int8 rule", "digest", "created")
    rows = [
        (
            v.version,
            ",".join(v.aliases) or "-",
            _figure(v.tags, TAG_SPAM_F1, TAG_SPAM_F1_LOW, TAG_SPAM_F1_HIGH),
            _figure(v.tags, TAG_HAM_BLOCKED, TAG_HAM_BLOCKED_LOW, TAG_HAM_BLOCKED_HIGH),
            _int8_rule(v.tags),
            v.tags.get(TAG_MODEL_DIGEST, "-") + (" (forced)" if v.tags.get(TAG_FORCED) == "true" else ""),
            f"{v.created:%Y-%m-%d %H:%M}Z" if v.created else "-",
        )
        for v in versions
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in [header, *rows])  # fmt: skip


def run(args: argparse.Namespace) -> int:
    registry = ModelRegistry(args.tracking_uri)
    if args.command == "list":
        versions = registry.versions()
        if not versions:
            where = masked_uri(registry.tracking_uri)
            print(f"no versions of {REGISTERED_MODEL} in {where}: `dvc repro` registers one")
            return 0
        print(format_versions(versions))
    elif args.command == "current":
        aliases = registry.aliases()
        for alias in ALIASES:
            version = aliases.get(alias)
            if version is None:
                print(f"@{alias}: not set")
            else:
                digest = registry.get(version).tags.get(TAG_MODEL_DIGEST, "-")
                print(f"@{alias}: version {version} (digest {digest})")
    else:
        done = promote(registry, args.version, args.alias, force=args.force)
        was = f"was version {done.previous}" if done.previous else "was not set"
        print(f"@{done.alias} -> version {done.version} ({was})")
        if done.overridden:
            print(f"FORCED over the gate: {'; '.join(done.overridden)} (recorded on version {done.version})")
        elif args.force and args.alias == GATED_ALIAS:
            print("the gate passed: --force was not needed")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # wrong usage: argparse exits 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # a retry per attempt; the failure itself is our one line
    set_fast_failure_defaults()
    try:
        return run(args)
    except (RegistryError, PromotionRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
