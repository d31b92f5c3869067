"""Request and response bodies (they also feed the OpenAPI document at /docs)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class PredictRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": ["Free entry to win a prize! Text WIN to 80086", "See you at 7?"]}]},
    )

    text: list[StrictStr] = Field(description="Messages to classify; predictions come back in this order.")


class TextPrediction(BaseModel):
    label: Literal["spam", "ham"]
    spam_probability: float = Field(ge=0.0, le=1.0)
    truncated: bool = Field(description="True when the text was cut at the token limit before classifying.")
    tokens: int = Field(description="Tokens the model saw, special tokens included.")


class ModelInfo(BaseModel):
    name: str
    version: str


class PredictResponse(BaseModel):
    predictions: list[TextPrediction]
    model: ModelInfo
    request_id: str


class ErrorResponse(BaseModel):
    detail: str = Field(description="What is wrong and how to fix it.")
    errors: list[dict] = Field(default_factory=list, description="One entry per problem found.")
    request_id: str | None = None


class HealthResponse(BaseModel):
    status: Literal["ok"]


class RequestLogState(BaseModel):
    kind: Literal["file", "hdfs"]
    ready: bool = Field(description="Lines are stored durably (local file or spool) before answers go out.")
    lines_waiting: int = Field(description="Lines accepted but not yet at their destination (HDFS: in the spool).")
    lines_written: int = Field(description="Lines at their destination since start-up.")
    last_error: str | None
    target: str
    connected: bool | None = Field(None, description="HDFS: whether the last call to HDFS succeeded.")
    bytes_waiting: int = 0
    errors: int = Field(0, description="Failed attempts to store lines or ship them to HDFS since start-up.")


class VaultState(BaseModel):
    addr: str
    auth: Literal["approle", "token"]
    token_ttl_s: int
    renewable: bool
    last_renewal: float | None
    last_error: str | None


class InferenceState(BaseModel):
    backend: Literal["torch", "onnx", "onnx-int8"]
    workers: int = Field(description="Forward passes run at once.")
    threads: int = Field(description="Intra-op threads of each forward pass.")
    max_batch_texts: int
    max_wait_ms: float
    batches: int = Field(description="Forward-pass batches run since start-up (each may serve several requests).")
    requests: int
    texts: int
    largest_batch: int = Field(description="Most texts one coalesced batch held.")


class StatusResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    version: str
    uptime_s: float
    model: ModelInfo
    inference: InferenceState
    request_log: RequestLogState
    vault: VaultState | None


class ReadyResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    model: ModelInfo | None
    request_log: RequestLogState | None
