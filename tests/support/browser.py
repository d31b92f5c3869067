"""Headless Chromium for the page tests and the README screenshot: Debian's `chromium` package driven by Playwright.

Playwright's own browser builds are downloaded from a CDN, which this project's machines cannot reach; the system
package is installed by scripts/install_system_packages.sh (`make test` runs it)."""

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # as root (CI containers) Chromium refuses to start with its sandbox
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium's own background connections are refused on a closed network and its page
    # connections go with them.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    f"{CHROMIUM} is missing: the page tests need Debian's Chromium. Run scripts/install_system_packages.sh "
    "(`make test` does), or `sudo apt-get install -y chromium`"
)


class ChromiumMissing(RuntimeError):
    pass


def launch_chromium(playwright: Playwright) -> Browser:
    """Raises `ChromiumMissing` with how to install it."""
    if not CHROMIUM.is_file():
        raise ChromiumMissing(INSTALL_HINT)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
