"""All runtime configuration, read once from the environment (or a `.env` file)."""

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL_DIR = Path("weights/spam-minilm")


class Settings(BaseSettings):
    """Service settings. Environment variables use the upper-case field name (`MODEL_DIR`, `PORT`, ...)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = Field("0.0.0.0", description="Interface uvicorn binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port uvicorn listens on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Application log level.")

    model_dir: Path = Field(DEFAULT_MODEL_DIR, description="Exported model directory (Hugging Face format).")
    max_tokens: int = Field(256, ge=8, le=4096, description="Texts longer than this many tokens are truncated.")
    spam_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="Spam probability at or above which -> spam.")
    inference_batch_size: int = Field(32, ge=1, le=1024, description="Texts per forward pass.")
    torch_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 1, ge=1, description="Intra-op threads for inference."
    )

    max_texts_per_request: int = Field(64, ge=1, le=10_000, description="Most texts one /predict may carry.")
    max_text_chars: int = Field(5000, ge=1, le=1_000_000, description="Most characters in one text.")

    request_log_dir: Path = Field(Path("logs"), description="Directory of the local request log (JSON lines).")

    @field_validator("model_dir", "request_log_dir")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @cached_property
    def max_body_bytes(self) -> int:
        """Upper bound of a valid /predict body: every text at its limit, each character JSON-escaped
        as a surrogate pair (12 bytes), plus framing."""
        return self.max_texts_per_request * (self.max_text_chars * 12 + 16) + 1024
