"""Request and response bodies (they also feed the OpenAPI document at /docs)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


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


class PredictionStoreState(BaseModel):
    kind: Literal["sqlite", "postgresql"]
    target: str = Field(description="The database URL, password masked.")
    schema_ready: bool = Field(description="Migrations applied (false while the database has been unreachable).")
    rows_waiting: int = Field(description="Predictions accepted but not yet written (batched, or the DB is down).")
    rows_written: int = Field(description="Predictions written since start-up.")
    rows_dropped: int = Field(description="Predictions not stored because too many were waiting (the DB was down).")
    last_error: str | None


class StatusResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    version: str
    uptime_s: float
    model: ModelInfo
    inference: InferenceState
    request_log: RequestLogState
    vault: VaultState | None
    prediction_store: PredictionStoreState


class ReadyResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    model: ModelInfo | None
    request_log: RequestLogState | None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"request_id": "6f1c0b8e2d7a4d0f9b3c1a2e5d4f6a7b", "index": 0, "label": "ham"}]
        },
    )

    request_id: StrictStr = Field(description="The request_id of a /predict response (also its X-Request-ID).")
    index: StrictInt = Field(description="Position of the text in that request's `text` array, from 0.")
    label: Literal["spam", "ham"] = Field(description="The true label of that text.")


class FeedbackResponse(BaseModel):
    request_id: str
    index: int
    label: Literal["spam", "ham"] = Field(description="The true label, as given.")
    predicted_label: Literal["spam", "ham"]
    correct: bool = Field(description="Whether the prediction agreed with the feedback.")
    replaced: bool = Field(description="True when this replaced earlier, different feedback on the same text.")


class StatisticsCounts(BaseModel):
    predictions: int
    spam_predicted: int
    spam_share: float | None = Field(description="spam_predicted / predictions.")
    with_feedback: int = Field(description="Predictions that received feedback.")
    correct: int = Field(description="Fed-back predictions that agreed with their feedback.")
    correctness_rate: float | None = Field(description="correct / with_feedback; null without feedback.")
    spam_precision: float | None = Field(
        description="Among fed-back predictions: predicted spam that was spam / predicted spam; null when none."
    )
    spam_recall: float | None = Field(
        description="Among fed-back predictions: spam predicted as spam / spam; null when no feedback said spam."
    )


class ModelStatistics(StatisticsCounts):
    model: ModelInfo
    first_prediction: str
    last_prediction: str


class StatisticsResponse(BaseModel):
    since: str | None = Field(description="Start of the window (UTC, inclusive), as applied.")
    until: str | None = Field(description="End of the window (UTC, exclusive), as applied.")
    total: StatisticsCounts
    by_model: list[ModelStatistics] = Field(description="One entry per model version, oldest first.")


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Body is not valid JSON."),
        (413, "Body larger than the configured limits allow."),
        (415, "Body is not sent as application/json."),
        (422, "JSON is valid but breaks a rule; `detail` says which and how to fix it."),
    )
}
