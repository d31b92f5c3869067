"""`python -m spam_service keys ...`: create, list and revoke API keys in the key store (API_KEYS_FILE, or the
Vault secret VAULT_API_KEYS_PATH, written with the operator's VAULT_TOKEN).

`create` prints the new key, and only the key, on stdout, once: it is stored as a hash and cannot be shown again.
A running service sees the change within seconds."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from spam_service.auth.key_store import JsonFileKeyStore, KeyStore, KeyStoreError
from spam_service.auth.keys import ROLES, ApiKey, check_name, key_digest, new_key
from spam_service.errors import StartupError


def _name(value: str) -> str:
    try:
        return check_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m spam_service keys", description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a key store file (default: VAULT_API_KEYS_PATH, else API_KEYS_FILE)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print it (once)")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", required=True, type=_name, help="who or what holds it, e.g. billing-app")
    create.add_argument("--expires-days", type=int, help="days until it stops working (default: never)")
    commands.add_parser("list", help="names, roles and dates of the keys (never the keys)")
    revoke = commands.add_parser("revoke", help="remove a key: it stops working within seconds")
    revoke.add_argument("name")
    return parser


def main(argv: list[str], default_store: Callable[[], KeyStore]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        store = JsonFileKeyStore(args.file) if args.file else default_store()
        keys = store.load()
        if args.command == "create":
            if any(key.name == args.name for key in keys):
                parser.error(f"a key named {args.name!r} exists: revoke it first, or choose another name")
            if args.expires_days is not None and args.expires_days < 1:
                parser.error("--expires-days must be 1 or more")
            key = new_key()
            now = datetime.now(UTC).replace(microsecond=0)
            expires = now + timedelta(days=args.expires_days) if args.expires_days else None
            store.save([*keys, ApiKey(args.name, args.role, key_digest(key), now, expires)])
            print(key)
        elif args.command == "list":
            now = datetime.now(UTC)
            for key in sorted(keys, key=lambda k: k.name):
                until = f"expires {key.expires:%Y-%m-%d}" if key.expires else "never expires"
                state = " (EXPIRED)" if key.expired(now) else ""
                print(f"{key.name}\t{key.role}\tcreated {key.created:%Y-%m-%d}\t{until}{state}")
        else:
            remaining = [key for key in keys if key.name != args.name]
            if len(remaining) == len(keys):
                parser.error(f"no key named {args.name!r} (`keys list` shows the names)")
            store.save(remaining)
            print(f"revoked {args.name}", file=sys.stderr)
    except (KeyStoreError, StartupError) as exc:  # StartupError: Vault login
        print(f"spam-service keys: {exc}", file=sys.stderr)
        return 1
    return 0
