"""All runtime configuration, read once from the environment (or a `.env` file)."""

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from spam_service.models.registry import UnknownModelVersionError, is_registry_uri, parse_registry_uri

DEFAULT_MODEL_DIR = Path("weights/spam-minilm")
DEFAULT_PREDICTION_STORE_URL = "sqlite:///data/predictions.sqlite3"  # relative to the working directory


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which `docker --cpuset-cpus` narrows; not a CPU quota)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    """Service settings. Environment variables use the upper-case field name (`MODEL_DIR`, `PORT`, ...)."""

    # Errors never echo the value: a URL or token refused by a validator may hold a secret.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    host: str = Field(
        "127.0.0.1",
        description="Interface uvicorn binds to (loopback by default; the image sets 0.0.0.0, which needs API keys).",
    )
    port: int = Field(8000, ge=1, le=65535, description="TCP port uvicorn listens on.")
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Application log level.")
    log_format: Literal["json", "text"] = Field(
        "json", description="Application log lines: one JSON object each (for log shippers), or text (for people)."
    )
    log_texts: bool = Field(
        False, description="Include the submitted texts in the /predict log line (off: no message text is logged)."
    )

    model_dir: Path = Field(DEFAULT_MODEL_DIR, description="Exported model directory (Hugging Face format).")
    # The model lifecycle (README, Model lifecycle): MODEL_URI wins over MODEL_DIR, which keeps working.
    model_uri: str | None = Field(
        None,
        description="The model to serve: an exported directory, or a registry URI (models:/spam-classifier@champion, "
        "models:/spam-classifier/3); unset: MODEL_DIR.",
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="MLflow tracking store where models:/ URIs are resolved (unset: the embedded local one)."
    )
    model_cache_dir: Path = Field(
        Path("model-cache"), description="Where registry versions are downloaded to (once per version)."
    )
    model_watch_interval_s: float = Field(
        0,
        ge=0,
        le=86_400,
        description="Seconds between checks of MODEL_URI's alias; when it points at another version, that version is "
        "loaded, checked and swapped in. 0: off.",
    )
    max_tokens: int = Field(256, ge=8, le=4096, description="Texts longer than this many tokens are truncated.")
    spam_threshold: float | None = Field(
        None,
        gt=0.0,
        lt=1.0,
        description="Spam probability at or above which -> spam. Unset: the model's operating point (the threshold "
        "its export chose on validation for a ham-blocked budget, in serving.json); 0.5 for a model without one.",
    )
    combine_baseline: bool = Field(
        True, description="Combine with the exported TF-IDF baseline: spam probability = max of the two models."
    )
    inference_backend: Literal["auto", "torch", "onnx", "onnx-int8"] = Field(
        "auto",
        description="Engine: auto (the export's recorded default), torch, onnx (fp32) or onnx-int8 (ONNX Runtime).",
    )
    inference_batch_size: int = Field(
        32, ge=1, le=1024, description="Most texts per forward pass; concurrent requests are coalesced up to it."
    )
    batch_wait_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="How long a batch that is not full waits for more requests while the other workers are busy.",
    )
    inference_workers: int = Field(
        2, ge=1, le=64, description="Forward passes run at once, each on its own thread with its own batch."
    )
    inference_threads: int = Field(
        default_factory=lambda data: max(1, available_cpus() // data.get("inference_workers", 1)),
        ge=1,
        description="Intra-op threads of each forward pass (default: the CPUs divided among the workers).",
    )

    max_texts_per_request: int = Field(64, ge=1, le=10_000, description="Most texts one /predict may carry.")
    max_text_chars: int = Field(5000, ge=1, le=1_000_000, description="Most characters in one text.")

    # API keys (README, Security).
    auth: Literal["auto", "on", "off"] = Field(
        "auto",
        description="auto: keys required unless the store is empty and HOST is loopback (local development); on: "
        "always; off: never (every route open: only behind something that authenticates).",
    )
    api_keys_file: Path = Field(Path("data/api-keys.json"), description="The API key store (hashes only).")
    vault_api_keys_path: str | None = Field(
        None, description="KV v2 path (in VAULT_KV_MOUNT) of the API key store, instead of API_KEYS_FILE."
    )
    rate_limit_predict_texts: float = Field(
        1000,
        ge=0,
        description="Texts per second per API key on /predict (burst: one second, at least one full "
        "request); 0: no limit. Per replica.",
    )
    rate_limit_feedback: float = Field(600, ge=0, description="Requests per minute per API key on /feedback; 0: off.")
    rate_limit_admin: float = Field(
        120,
        ge=0,
        description="Requests per minute per API key on /status, /statistics, /metrics, /admin/model; 0: off.",
    )

    # Backpressure and slow clients (docs/robustness.md lists every limit and the answer it gives).
    max_queued_texts: int = Field(
        1024,
        ge=1,
        description="Texts waiting for or in inference beyond which /predict answers 503 + Retry-After at once.",
    )
    request_timeout_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Deadline of a /predict request: past it the client gets 503, its work is dropped.",
    )
    max_connections: int = Field(
        1000, ge=1, description="Open HTTP connections beyond which new ones get 503 + Retry-After and are closed."
    )
    header_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Time a client has to send a request's headers (else 408, connection closed)."
    )
    max_header_bytes: int = Field(
        32 * 1024, ge=1024, description="Most bytes of a request line and headers (else 431, connection closed)."
    )
    body_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="Time a client has to send a request's whole body (else 408)."
    )
    max_body_bytes_in_flight: int = Field(
        32 * 1024 * 1024,
        ge=1,
        description="Request body bytes held at once across all requests (else 503 + Retry-After): bounds memory "
        "whatever the number of clients.",
    )

    # TLS: set both and uvicorn serves HTTPS only, every response with Strict-Transport-Security.
    tls_cert_file: Path | None = Field(
        None, description="PEM certificate (chain) the service presents; with TLS_KEY_FILE, turns HTTPS on."
    )
    tls_key_file: Path | None = Field(None, description="PEM private key (unencrypted) of TLS_CERT_FILE.")

    request_log_dir: Path = Field(Path("logs"), description="Directory of the local request log (JSON lines).")

    # Vault: when VAULT_ADDR is set, the HDFS location comes from a KV v2 secret (keys host, port, user).
    vault_addr: str | None = Field(None, description="Vault URL; set it to read the HDFS location from Vault.")
    vault_role_id: SecretStr | None = Field(None, description="AppRole role_id.")
    vault_secret_id: SecretStr | None = Field(None, description="AppRole secret_id.")
    vault_role_id_file: Path | None = Field(None, description="File holding the AppRole role_id.")
    vault_secret_id_file: Path | None = Field(None, description="File holding the AppRole secret_id.")
    vault_token: SecretStr | None = Field(None, description="Vault token (instead of AppRole).")
    vault_token_file: Path | None = Field(None, description="File holding a Vault token.")
    vault_approle_mount: str = Field("approle", description="Mount path of the AppRole auth method.")
    vault_kv_mount: str = Field("secret", description="Mount path of the KV v2 secrets engine.")
    vault_hdfs_secret_path: str = Field("spam-service/hdfs", description="Path of the HDFS secret in that mount.")
    vault_namespace: str | None = Field(None, description="Vault Enterprise / HCP namespace.")
    vault_cacert: Path | None = Field(None, description="CA bundle to verify Vault's TLS certificate.")
    vault_timeout: float = Field(5.0, gt=0, le=60, description="Seconds per Vault call.")

    # HDFS request log: used when Vault names HDFS, or when HDFS_HOST is set directly (no Vault).
    hdfs_host: str | None = Field(None, description="Namenode host, when not read from Vault.")
    hdfs_port: int = Field(9870, ge=1, le=65535, description="Namenode WebHDFS port, when not read from Vault.")
    hdfs_user: str | None = Field(None, description="HDFS user, when the Vault secret has none.")
    hdfs_scheme: Literal["http", "https"] = Field("http", description="WebHDFS scheme.")
    hdfs_log_dir: str = Field("/logs/spam-service", description="HDFS directory of the request log.")
    hdfs_timeout: float = Field(10.0, gt=0, le=300, description="Seconds per WebHDFS call.")
    hdfs_datanode_rewrites: dict[str, str] = Field(
        default_factory=dict,
        description='Datanode host:port from redirects -> one the service reaches, JSON: {"dn:9864": "10.0.0.5:9864"}',
    )
    hdfs_flush_interval: float = Field(1.0, gt=0, le=300, description="Seconds between appends to HDFS.")
    hdfs_flush_bytes: int = Field(1 << 20, ge=1, description="Append sooner once this many bytes wait.")
    spool_dir: Path = Field(Path("spool"), description="Local spool of lines on their way to HDFS.")
    spool_warn_bytes: int = Field(1 << 30, ge=1, description="Warn when the spool holds more than this.")

    # Prediction store: every prediction and its feedback, for /feedback and /statistics.
    prediction_store_url: SecretStr = Field(
        SecretStr(DEFAULT_PREDICTION_STORE_URL),
        description="SQLAlchemy URL of the prediction store (SQLite file or postgresql+psycopg://...); may hold a "
        "password, so it is a secret and only its masked form is logged.",
    )
    store_texts: bool = Field(False, description="Store each predicted text in the prediction store too.")
    prediction_store_flush_interval: float = Field(
        0.2, gt=0, le=60, description="Seconds between batched writes of predictions to the store."
    )
    prediction_store_max_pending: int = Field(
        100_000, ge=1, description="Most prediction rows kept in memory while the store's database is unreachable."
    )

    # Shadow scoring: a challenger scores a sample of live traffic after the answers went out, for /statistics.
    shadow_model_uri: str | None = Field(
        None,
        description="The challenger: an exported directory or a registry URI (models:/spam-classifier@challenger); "
        "unset: no shadow scoring. It scores a sample of /predict texts off the request path; its predictions are "
        "stored beside the served model's.",
    )
    shadow_sample_rate: float = Field(
        0.1, ge=0.0, le=1.0, description="Fraction of /predict requests the challenger scores (chosen at random)."
    )
    shadow_max_queued_texts: int = Field(
        256,
        ge=1,
        description="Texts waiting for the challenger beyond which sampled requests are dropped (and counted): "
        "shadow scoring never holds more, however busy the service is.",
    )

    @field_validator("prediction_store_url")
    @classmethod
    def _store_url_is_usable(cls, value: SecretStr) -> SecretStr:
        from spam_service.prediction_store.database import parse_store_url

        parse_store_url(value.get_secret_value())  # ValueError names no part of the URL: it may hold a password
        return value

    @field_validator("model_uri", "shadow_model_uri")
    @classmethod
    def _model_uri_is_usable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        name = info.field_name.upper()
        value = value.strip()
        if not value:
            raise ValueError(f"{name} is empty: set a directory or models:/spam-classifier@champion, or unset it")
        if value.startswith("models:"):
            try:
                parse_registry_uri(value)
            except UnknownModelVersionError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return value

    @field_validator("model_dir", "request_log_dir", "spool_dir", "api_keys_file", "model_cache_dir")
    @classmethod
    def _expand_user(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _vault_credentials_come_in_pairs(self) -> "Settings":
        if (self.vault_role_id or self.vault_role_id_file) and not (self.vault_secret_id or self.vault_secret_id_file):
            raise ValueError("VAULT_ROLE_ID(_FILE) is set without VAULT_SECRET_ID(_FILE): AppRole login needs both")
        if (self.vault_secret_id or self.vault_secret_id_file) and not (self.vault_role_id or self.vault_role_id_file):
            raise ValueError("VAULT_SECRET_ID(_FILE) is set without VAULT_ROLE_ID(_FILE): AppRole login needs both")
        return self

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> "Settings":
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            given, missing = (
                ("TLS_CERT_FILE", "TLS_KEY_FILE") if self.tls_key_file is None else ("TLS_KEY_FILE", "TLS_CERT_FILE")
            )
            raise ValueError(f"{given} is set without {missing}: HTTPS needs both (or neither, for plain HTTP)")
        return self

    @model_validator(mode="after")
    def _api_keys_in_vault_need_vault(self) -> "Settings":
        if self.vault_api_keys_path and not self.vault_addr:
            raise ValueError("VAULT_API_KEYS_PATH is set without VAULT_ADDR: the key store in Vault needs a Vault")
        return self

    @model_validator(mode="after")
    def _model_watching_needs_an_alias(self) -> "Settings":
        alias = parse_registry_uri(self.model_uri)[1] if self.model_uri and is_registry_uri(self.model_uri) else None
        if self.model_watch_interval_s > 0 and alias is None:
            raise ValueError(
                f"MODEL_WATCH_INTERVAL_S={self.model_watch_interval_s:g} needs MODEL_URI to name a registry alias "
                f"(models:/spam-classifier@champion), not {self.model_uri!r}: set one, or MODEL_WATCH_INTERVAL_S=0"
            )
        return self

    @property
    def model_source(self) -> str:
        """What to serve: MODEL_URI, else MODEL_DIR (a directory path)."""
        return self.model_uri if self.model_uri is not None else str(self.model_dir)

    @model_validator(mode="after")
    def _a_full_request_fits_the_queue(self) -> "Settings":
        if self.max_queued_texts < self.max_texts_per_request:
            raise ValueError(
                f"MAX_QUEUED_TEXTS ({self.max_queued_texts}) is below MAX_TEXTS_PER_REQUEST "
                f"({self.max_texts_per_request}): a full request could never be queued"
            )
        if self.max_body_bytes_in_flight < self.max_body_bytes:
            raise ValueError(
                f"MAX_BODY_BYTES_IN_FLIGHT ({self.max_body_bytes_in_flight}) is below the largest valid body "
                f"({self.max_body_bytes} bytes, from MAX_TEXTS_PER_REQUEST x MAX_TEXT_CHARS): raise it"
            )
        return self

    @cached_property
    def max_body_bytes(self) -> int:
        """Upper bound of a valid /predict body: every text at its limit, each character JSON-escaped
        as a surrogate pair (12 bytes), plus framing."""
        return self.max_texts_per_request * (self.max_text_chars * 12 + 16) + 1024
