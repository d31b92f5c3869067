"""Request and response bodies (they also feed the OpenAPI document at /docs)."""

from dataclasses import asdict
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

# NUL is valid JSON and valid Unicode, but no message holds one, PostgreSQL text cannot store it and C code around
# the model may stop at it: refused, like the lone surrogates (U+D800-U+DFFF) pydantic already refuses as not
# valid Unicode. Every other code point is classified.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _refuse_nul(text: str) -> str:
    if "\x00" in text:
        raise PydanticCustomError("text_nul", "contains a NUL character (U+0000)")
    return text


def _integral_number_to_int(value: object) -> object:
    """JSON Schema's integer includes 3.0; strings and booleans stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


MAX_UNKNOWN_KEYS_LISTED = 10


class RequestBody(BaseModel):
    """A JSON object body that takes only its fields. Pydantic reports each unknown key as an error of its own (a
    body of 250,000 keys cost 330 MB and 4 s): past a few, they are refused as one error that names the first."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _not_too_many_unknown_keys(cls, data: object) -> object:
        if isinstance(data, dict) and len(data) > len(cls.model_fields) + MAX_UNKNOWN_KEYS_LISTED:
            unknown = [key for key in data if key not in cls.model_fields]
            raise PydanticCustomError(
                "unknown_keys",
                "{count} unknown keys",
                {"keys": unknown[:MAX_UNKNOWN_KEYS_LISTED], "count": len(unknown)},
            )
        return data


class PredictRequest(RequestBody):
    """The body of /predict. `predict_request_model` derives the class the app validates with, which adds the
    configured limits (they appear in the OpenAPI document as minItems, maxItems and maxLength)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": ["Free entry to win a prize! Text WIN to 80086", "See you at 7?"]}]},
    )

    text: list[StrictStr] = Field(description="Messages to classify; predictions come back in this order.")


def limited_text(max_chars: int) -> Any:
    """A message as the API accepts one: a string of at most `max_chars` characters, without NUL."""
    return Annotated[
        StrictStr,
        Field(max_length=max_chars, json_schema_extra={"pattern": NO_NUL_PATTERN}),
        AfterValidator(_refuse_nul),
    ]


def predict_request_model(max_texts: int, max_chars: int) -> type[PredictRequest]:
    """`PredictRequest` with its limits: 1 to `max_texts` texts of at most `max_chars` characters, no NUL and no
    lone surrogates. Pydantic checks the list's length before its items, so an oversized list costs one error."""
    text = limited_text(max_chars)
    return create_model(
        "PredictRequest",
        __base__=PredictRequest,
        text=(
            list[text],
            Field(
                min_length=1,
                max_length=max_texts,
                description="Messages to classify (MAX_TEXTS_PER_REQUEST at most, each MAX_TEXT_CHARS characters at "
                "most); predictions come back in this order.",
            ),
        ),
    )


class TextPrediction(BaseModel):
    label: Literal["spam", "ham"]
    spam_probability: float = Field(ge=0.0, le=1.0)
    truncated: bool = Field(description="True when the text was cut at the token limit before classifying.")
    tokens: int = Field(description="Tokens the model saw, special tokens included.")


class ModelInfo(BaseModel):
    name: str
    version: str = Field(description="First 12 hex digits of the SHA-256 of the weights and the baseline.")
    registry_version: str | None = Field(
        None, description="Version of `spam-classifier` in the model registry; null when served from a directory."
    )


class ServedModelInfo(ModelInfo):
    uri: str | None = Field(description="Where it was loaded from: a directory, or a models:/ URI (MODEL_URI).")


class ModelSwapState(BaseModel):
    state: Literal["idle", "swapping"]
    swapping_to: str | None = Field(description="The URI being loaded now.")
    last_attempt_at: str | None = Field(description="When the latest swap began (UTC, ISO 8601).")
    last_uri: str | None = Field(description="The URI the latest swap asked for.")
    last_result: Literal["swapped", "refused"] | None
    last_error: str | None = Field(description="Why the latest swap was refused; null after a success.")
    swaps: int = Field(description="Models swapped in since start-up.")
    refusals: int = Field(description="Swaps refused since start-up (the model serving kept serving).")


# A registry version number, as `{"version": "3"}` names it.
REGISTRY_VERSION_PATTERN = "^[1-9][0-9]{0,8}$"


class ModelSwapRequest(RequestBody):
    """The body of POST /admin/model: exactly one of `uri` and `version`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "oneOf": [{"required": ["uri"]}, {"required": ["version"]}],
            "examples": [{"version": "3"}, {"uri": "models:/spam-classifier@champion"}, {"uri": "weights/spam-minilm"}],
        },
    )

    # Typed as strings that default to None: an absent key is None, while a JSON null is refused like any other
    # non-string (the schema says "type: string", no null), so each key has one meaning.
    uri: Annotated[StrictStr, AfterValidator(_refuse_nul)] = Field(  # type: ignore[assignment]
        None,
        min_length=1,
        max_length=1024,
        json_schema_extra={"pattern": NO_NUL_PATTERN},
        description="An exported model directory (on the service's machine) or a registry URI "
        "(models:/spam-classifier@champion, models:/spam-classifier/3).",
    )
    version: StrictStr = Field(  # type: ignore[assignment]
        None,
        pattern=REGISTRY_VERSION_PATTERN,
        description="A version number of `spam-classifier` in the registry: short for models:/spam-classifier/N.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "ModelSwapRequest":
        if (self.uri is None) == (self.version is None):
            raise PydanticCustomError(
                "uri_or_version", "send exactly one of 'uri' and 'version', e.g. {\"version\": \"3\"}"
            )
        return self


class ModelSwapResponse(BaseModel):
    previous: ServedModelInfo
    current: ServedModelInfo
    load_s: float = Field(description="Seconds to fetch, load, warm up and check the new model.")


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
    broken: list[str] = Field(
        default_factory=list,
        description="HDFS files that cannot be shipped now ('name: reason'); their lines wait in the spool.",
    )


class ThreadState(BaseModel):
    name: str
    alive: bool = Field(description="Runs (or waits to be restarted after a crash).")
    crashes: int = Field(description="Times it died since start-up; each was logged with its traceback.")
    last_crash: str | None


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
    queued_texts: int = Field(description="Texts waiting for or in a forward pass now.")
    max_queued_texts: int = Field(description="MAX_QUEUED_TEXTS: beyond it /predict answers 503 at once.")
    refused_overloaded: int = Field(description="/predict requests answered 503 because the queue was full.")
    refused_deadline: int = Field(description="/predict requests answered 503 past REQUEST_TIMEOUT_S.")


class PredictionStoreState(BaseModel):
    kind: Literal["sqlite", "postgresql"]
    target: str = Field(description="The database URL, password masked.")
    schema_ready: bool = Field(description="Migrations applied (false while the database has been unreachable).")
    rows_waiting: int = Field(description="Predictions accepted but not yet written (batched, or the DB is down).")
    rows_written: int = Field(description="Predictions written since start-up (a challenger's shadow rows included).")
    rows_dropped: int = Field(description="Predictions not stored because too many were waiting (the DB was down).")
    rows_rejected: int = Field(
        0, description="Predictions the database refused for their values (isolated; the others were written)."
    )
    last_error: str | None


class ShadowState(BaseModel):
    model: ModelInfo = Field(description="The challenger scoring a sample of /predict traffic off the request path.")
    sample_rate: float = Field(description="SHADOW_SAMPLE_RATE: fraction of /predict requests it scores.")
    max_queued_texts: int = Field(description="SHADOW_MAX_QUEUED_TEXTS: beyond it sampled requests are dropped.")
    queued_texts: int = Field(description="Texts waiting for or being scored by the challenger now.")
    niceness: int | None = Field(description="OS priority of the scoring thread (19: lowest); null: not lowered.")
    offered: int = Field(description="/predict texts since start-up.")
    sampled: int = Field(description="Texts picked for the challenger since start-up.")
    scored: int = Field(description="Sampled texts the challenger scored (stored beside the served model's).")
    dropped: int = Field(
        description="Sampled texts not scored or not stored: its queue was full, scoring failed, shutdown came "
        "first, or the prediction store held too many rows (its database is down)."
    )

    @classmethod
    def of(cls, status: Any) -> "ShadowState":
        """From the scorer's `ShadowStatus`."""
        fields = asdict(status)
        model = ModelInfo(
            name=fields.pop("model_name"),
            version=fields.pop("model_version"),
            registry_version=fields.pop("registry_version"),
        )
        return cls(model=model, **fields)


class StatusResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    version: str
    uptime_s: float
    model: ServedModelInfo
    model_swap: ModelSwapState
    inference: InferenceState
    request_log: RequestLogState
    vault: VaultState | None
    prediction_store: PredictionStoreState
    shadow: ShadowState | None = Field(None, description="Shadow scoring by a challenger; null when it is off.")
    threads: list[ThreadState] = Field(description="Background workers; a dead one makes the service not ready.")


class ReadyResponse(BaseModel):
    status: Literal["ready", "not_ready"]
    model: ModelInfo | None
    request_log: RequestLogState | None
    threads: list[ThreadState] = Field(default_factory=list, description="Background workers.")


class FeedbackRequest(RequestBody):
    """The body of /feedback. `feedback_request_model` derives the class the app validates with, which limits
    `text` as /predict limits its texts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"request_id": "6f1c0b8e2d7a4d0f9b3c1a2e5d4f6a7b", "index": 0, "label": "ham"},
                {
                    "request_id": "6f1c0b8e2d7a4d0f9b3c1a2e5d4f6a7b",
                    "index": 1,
                    "label": "spam",
                    "text": "Your parcel is on hold, pay the 1.99 fee at dpd-redelivery.info",
                },
            ]
        },
    )

    request_id: StrictStr = Field(
        min_length=1, max_length=64, description="The request_id of a /predict response (also its X-Request-ID)."
    )
    index: Annotated[StrictInt, BeforeValidator(_integral_number_to_int)] = Field(
        ge=0, description="Position of the text in that request's `text` array, from 0."
    )
    label: Literal["spam", "ham"] = Field(description="The true label of that text.")
    text: StrictStr | None = Field(
        None,
        description="Optional: the text itself, as sent to /predict, so the feedback can become training data when "
        "the service does not store texts (STORE_TEXTS). Refused when a stored text differs.",
    )


def feedback_request_model(max_chars: int) -> type[FeedbackRequest]:
    """`FeedbackRequest` whose `text` has /predict's limits: at most `max_chars` characters, no NUL, no lone
    surrogates."""
    text = limited_text(max_chars)
    return create_model(
        "FeedbackRequest",
        __base__=FeedbackRequest,
        text=(
            text | None,
            Field(
                None,
                description="Optional: the text itself, as sent to /predict (MAX_TEXT_CHARS characters at most), so "
                "the feedback can become training data when the service does not store texts (STORE_TEXTS). "
                "Refused when the stored text differs.",
            ),
        ),
    )


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


class ShadowStatistics(BaseModel):
    model: ModelInfo = Field(description="The challenger (shadow) model version.")
    first_prediction: str
    last_prediction: str
    agreeing: int = Field(description="Texts the challenger and the served model labelled alike.")
    agreement: float | None = Field(description="agreeing / texts the challenger scored; null when none.")
    challenger: StatisticsCounts = Field(description="The challenger's figures on the texts it scored.")
    served: StatisticsCounts = Field(
        description="The served model's figures on the same texts, with the same feedback (like for like)."
    )


class StatisticsResponse(BaseModel):
    since: str | None = Field(description="Start of the window (UTC, inclusive), as applied.")
    until: str | None = Field(description="End of the window (UTC, exclusive), as applied.")
    total: StatisticsCounts
    by_model: list[ModelStatistics] = Field(description="One entry per model version, oldest first.")
    shadow: list[ShadowStatistics] = Field(
        default_factory=list,
        description="Per challenger version, on the texts it shadow-scored in the window (its rows' time), oldest "
        "first: its figures against the served model's on those same texts. Empty without shadow scoring.",
    )


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "Body is not valid JSON."),
        (401, "No API key, or one that is unknown, revoked or expired (`WWW-Authenticate: Bearer`)."),
        (403, "The API key's role may not do this."),
        (408, "The body did not arrive within BODY_TIMEOUT_S."),
        (413, "Body larger than the configured limits allow."),
        (415, "Body is not sent as application/json."),
        (422, "JSON is valid but breaks a rule; `detail` says which and how to fix it (at most 10 problems listed)."),
        (429, "The API key went past its rate limit: retry after `Retry-After` (`RateLimit` fields say more)."),
        (503, "Overloaded, past the request deadline, or the request log cannot store lines: retry after the "
         "`Retry-After` header's seconds."),
    )
}  # fmt: skip
AUTH_RESPONSES = {status: ERROR_RESPONSES[status] for status in (401, 403, 429)}
