#!/usr/bin/env python3
"""Screenshot of the page at GET / for the README: serves the trained model on a loopback port, classifies a spam
and a ham message in headless Chromium and, where the service has /feedback, marks the spam one right.

    .venv/bin/python scripts/screenshot_page.py     # writes docs/page.png

Needs the dev requirements (Playwright) and Debian's Chromium (scripts/install_system_packages.sh).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the browser and live-server helpers the tests use

from playwright.sync_api import expect, sync_playwright  # noqa: E402
from tests.support.browser import launch_chromium  # noqa: E402
from tests.support.live_server import start_live_server  # noqa: E402

from spam_service.api import create_app  # noqa: E402
from spam_service.runtime import build_services  # noqa: E402
from spam_service.settings import DEFAULT_MODEL_DIR, Settings  # noqa: E402

MESSAGES = [
    "WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim. T&C apply, reply STOP to end",
    "Hey, are we still meeting for lunch tomorrow at 1? Let me know",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot the page at GET / with a spam and a ham result.")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "page.png")
    parser.add_argument("--model-dir", type=Path, default=REPO_ROOT / DEFAULT_MODEL_DIR)
    args = parser.parse_args(argv)
    out, model_dir = args.out.resolve(), args.model_dir.resolve()

    # Run inside a scratch directory: whatever the service writes at paths relative to the working directory
    # (request log, spool, stores) for these two requests lands there and goes with it.
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        live = start_live_server(create_app(build_services(Settings(model_dir=model_dir))))
        try:
            has_feedback = "/feedback" in httpx.get(f"{live.url}/openapi.json").json()["paths"]
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                page = browser.new_page(viewport={"width": 900, "height": 700})
                page.goto(f"{live.url}/")
                page.get_by_label("Messages, one per line").fill("\n".join(MESSAGES))
                page.get_by_role("button", name="Classify").click()
                rows = page.locator("#results > li")
                expect(rows).to_have_count(len(MESSAGES))
                if has_feedback:
                    rows.nth(0).get_by_role("button", name="Right").click()
                    expect(rows.nth(0).locator(".feedback-status")).to_contain_text("Thanks")
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=out, full_page=True)
                browser.close()
        finally:
            live.stop()
    print(f"wrote {out}" + ("" if has_feedback else " (no feedback shown: this service has no /feedback)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
