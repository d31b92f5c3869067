"""Helpers shared by the tests: real servers, tiny models, a browser, a live uvicorn, sample messages."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
