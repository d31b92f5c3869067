#!/usr/bin/env python3
"""Functional scenario against a running spam-service (the CD check). Standard library only.

    python scripts/functional_check.py --url http://127.0.0.1:8000 \
        --hdfs-cat "docker compose exec -T namenode hdfs dfs -cat /logs/spam-service/date=*/*.jsonl" \
        --report report.json

Checks: /health and /ready answer; the repository's sample query (GET with a JSON body) is classified right;
bad requests get a 4xx whose detail says what to fix; the request's line reaches the request log (found by
request_id in what `--hdfs-cat` prints). Writes a JSON report and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAMPLE_QUERY = Path(__file__).resolve().parent.parent / "sample_query.json"
EXPECTED_LABELS = ["spam", "ham", "spam", "ham"]


class CheckFailed(AssertionError):
    pass


def call(
    method: str,
    url: str,
    body: bytes | None = None,
    *,
    api_key: str | None = None,
    context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, Any]]:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {api_key}"} if api_key else {})}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Scenario:
    def __init__(
        self, url: str, hdfs_cat: str, wait: float, api_key: str | None = None, cacert: Path | None = None
    ) -> None:
        self.url, self.hdfs_cat, self.wait = url.rstrip("/"), hdfs_cat, wait
        self.api_key = api_key
        self.context = ssl.create_default_context(cafile=str(cacert)) if cacert else None
        self.results: list[dict[str, Any]] = []
        self.request_id: str | None = None

    def call(self, method: str, url: str, body: bytes | None = None) -> tuple[int, dict[str, Any]]:
        return call(method, url, body, api_key=self.api_key, context=self.context)

    def run(self, name: str, check: Callable[[], str]) -> None:
        started = time.monotonic()
        try:
            detail, ok = check(), True
        except (CheckFailed, OSError, ValueError) as error:
            detail, ok = f"{type(error).__name__}: {error}", False
        self.results.append(
            {"check": name, "ok": ok, "detail": detail, "seconds": round(time.monotonic() - started, 2)}
        )
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)

    def health(self) -> str:
        for route in ("/health", "/ready"):
            status, body = self.call("GET", self.url + route)
            expect(status == 200, f"{route} answered {status}: {body}")
        return "/health and /ready answer 200"

    def sample_query(self) -> str:
        status, body = self.call("GET", self.url + "/predict", SAMPLE_QUERY.read_bytes())
        expect(status == 200, f"/predict answered {status}: {body}")
        labels = [p["label"] for p in body["predictions"]]
        expect(labels == EXPECTED_LABELS, f"labels {labels}, expected {EXPECTED_LABELS}")
        self.request_id = body["request_id"]
        return f"labels {labels}, model {body['model']}, request_id {self.request_id}"

    def bad_requests(self) -> str:
        cases = [(b'{"text": "one string"}', 422, "array of strings"), (b'{"text": [', 400, "not valid JSON")]
        for body, expected_status, words in cases:
            status, answer = self.call("POST", self.url + "/predict", body)
            expect(status == expected_status, f"{body!r} answered {status}, expected {expected_status}")
            expect(words in answer.get("detail", ""), f"detail {answer.get('detail')!r} lacks {words!r}")
        return "4xx with a detail that says what to fix"

    def line_in_request_log(self) -> str:
        expect(self.request_id is not None, "no request_id: the sample query failed")
        deadline = time.monotonic() + self.wait
        while True:
            result = subprocess.run(shlex.split(self.hdfs_cat), capture_output=True, text=True, timeout=120)
            for line in result.stdout.splitlines():
                if f'"request_id":"{self.request_id}"' in line:
                    record = json.loads(line)
                    labels = [p["label"] for p in record["predictions"]]
                    expect(labels == EXPECTED_LABELS, f"logged labels {labels}")
                    return f"found after {self.wait - (deadline - time.monotonic()):.1f} s: {line[:160]}..."
            if time.monotonic() > deadline:
                raise CheckFailed(
                    f"request {self.request_id} not in the log after {self.wait} s: {result.stderr[-300:]}"
                )
            time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--hdfs-cat", required=True, help="command printing the request log's lines")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the line to appear")
    parser.add_argument("--report", type=Path, help="write the results here as JSON")
    parser.add_argument("--cacert", type=Path, help="CA certificate to verify an https URL with")
    parser.add_argument("--api-key-file", type=Path, help="file holding the API key to send (never printed)")
    args = parser.parse_args(argv)

    api_key = args.api_key_file.read_text().strip() if args.api_key_file else None
    scenario = Scenario(args.url, args.hdfs_cat, args.wait, api_key, args.cacert)
    scenario.run("health and readiness", scenario.health)
    scenario.run("sample query classified", scenario.sample_query)
    scenario.run("bad requests get a clear 4xx", scenario.bad_requests)
    scenario.run("request line in the request log", scenario.line_in_request_log)
    passed = all(result["ok"] for result in scenario.results)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps({"url": args.url, "passed": passed, "checks": scenario.results}, indent=2))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
