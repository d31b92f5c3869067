"""The project's exceptions. Each carries the HTTP status it maps to when it reaches a client."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (its type name when empty): a cause fit for one log line."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]


class SpamServiceError(Exception):
    """Base class: the message is written for the person who has to act on it."""

    status_code: int = 500


class StartupError(SpamServiceError):
    """The service cannot start; the message says what to run or check."""


class ModelLoadError(StartupError):
    """The model directory is missing, incomplete or unreadable."""


REPRODUCE_HINT = "run `make model` (or `dvc repro`) to produce it, or set MODEL_DIR to an exported model"


class InvalidInputError(SpamServiceError):
    """The request is well-formed JSON but breaks a rule the message names."""

    status_code = 422


class NotFoundError(SpamServiceError):
    """The request names something the service does not have (an unknown request_id)."""

    status_code = 404


class ConflictError(SpamServiceError):
    """The request clashes with one still in progress (a model swap); retry once that one is done."""

    status_code = 409


class RateLimitedError(SpamServiceError):
    """The caller's key went past its rate limit; `headers` (Retry-After, RateLimit fields) go with the 429."""

    status_code = 429

    def __init__(self, message: str, headers: dict[str, str]) -> None:
        super().__init__(message)
        self.headers = headers


class UnavailableError(SpamServiceError):
    """The service cannot serve the request now (overloaded, past its deadline, a dependency or a background
    thread down); retrying after `retry_after` seconds may work (sent as `Retry-After`).
    Its message is shown to the client: write it without internals."""

    status_code = 503

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
