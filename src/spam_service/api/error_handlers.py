"""Turns every error into JSON `{"detail": <what to fix>, "errors": [...], "request_id": ...}`.

Pydantic's validation errors are rewritten into sentences that name the offending field (`text[2]`) and say what
to send instead; anything unexpected becomes a 500 whose body leaks nothing (the traceback goes to the log).
"""

import json
import logging
from collections.abc import Sequence
from email.message import Message
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from spam_service.auth.authenticator import AUTHENTICATE_HEADER, AuthenticationError
from spam_service.errors import RateLimitedError, SpamServiceError, UnavailableError

_logger = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 10
EXAMPLE_BODY = '{"text": ["first message", "second message"]}'
# Per route: an example body and the keys it takes, for messages about a body that does not fit.
BODIES = {
    "/feedback": ('{"request_id": "<request_id of a /predict response>", "index": 0, "label": "spam"}',
                  "'request_id', 'index' and 'label'"),
    "/admin/model": ('{"version": "3"} or {"uri": "models:/spam-classifier@champion"}', "'uri' or 'version'"),
}  # fmt: skip


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def error_response(
    request: Request, status_code: int, detail: str, errors: Sequence[dict[str, Any]] = ()
) -> JSONResponse:
    """The one error body of the service: these handlers' and the middleware's (413)."""
    return JSONResponse(
        {"detail": detail, "errors": list(errors), "request_id": request_id_of(request)},
        status_code=status_code,
    )


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _field(loc: Sequence[Any]) -> str:
    """('body', 'text', 2) -> 'text[2]'."""
    name = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def describe(error: dict[str, Any], path: str = "/predict") -> tuple[int, str]:
    """One pydantic/FastAPI error -> (HTTP status, sentence saying what to fix)."""
    kind, loc, value = error.get("type", ""), tuple(error.get("loc", ())), error.get("input")
    example, keys = BODIES.get(path, (EXAMPLE_BODY, "'text'"))
    field = _field(loc)
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "syntax error")
        position = f" at character {loc[1]}" if len(loc) > 1 else ""
        return 400, f"request body is not valid JSON ({reason}{position}); send {example}"
    if kind == "missing" and field == "body":
        return 422, f"request body is empty; send a JSON object such as {example}"
    if kind == "missing":
        return 422, f"missing key {field!r}; send {example}"
    if kind == "extra_forbidden":
        return 422, f"unknown key {field!r}; the body takes only {keys}, e.g. {example}"
    if kind == "unknown_keys":
        ctx = error.get("ctx") or {}
        named = ", ".join(repr(str(key)[:40]) for key in ctx.get("keys", []))
        return 422, f"{ctx.get('count')} unknown keys ({named}, ...); the body takes only {keys}, e.g. {example}"
    if kind in {"model_attributes_type", "dict_type", "model_type"}:
        return 422, f"request body must be a JSON object such as {example}, not {_json_type(value)}"
    if kind == "list_type":
        return 422, f"{field!r} must be an array of strings, not {_json_type(value)}; e.g. {example}"
    if kind == "string_type":
        return 422, f"{field} must be a string, not {_json_type(value)}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return 422, f"{field} must be an integer, not {_json_type(value)}"
    if kind == "too_short" and field == "text":
        return 422, f"'text' is empty; send at least one message, e.g. {example}"
    if kind == "too_long":
        ctx = error.get("ctx") or {}
        return 422, (
            f"{field!r} has {ctx.get('actual_length', 'too many')} messages; the limit is {ctx.get('max_length')} per "
            "request (MAX_TEXTS_PER_REQUEST): split them over several requests"
        )
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        length = f"{len(value)} characters" if isinstance(value, str) else "too many characters"
        hint = " (MAX_TEXT_CHARS): shorten it" if field.startswith("text[") else ""
        return 422, f"{field} has {length}; the limit is {limit}{hint}"
    if kind == "string_unicode":
        return 422, (
            f"{field} is not valid Unicode text (it holds a lone UTF-16 surrogate such as \\ud800): send each "
            "character whole, escaped as a surrogate pair or as UTF-8"
        )
    if kind == "string_pattern_mismatch" and field == "version":
        return 422, f'version must be a registry version number such as "3", not {json.dumps(value)}'
    if kind == "uri_or_version":
        return 422, str(error.get("msg"))
    if kind == "text_nul":
        return 422, f"{field} contains a NUL character (U+0000), which no message holds: remove it"
    if kind == "greater_than_equal":
        return 422, f"{field} must be {(error.get('ctx') or {}).get('ge')} or more, not {json.dumps(value)}"
    if kind == "string_too_short":
        return 422, f"{field} is empty; {keys} are required, e.g. {example}"
    if kind == "literal_error":
        expected = (error.get("ctx") or {}).get("expected", "one of the allowed values")
        return 422, f"{field} must be {expected}, not {json.dumps(value)}"
    return 422, f"{field}: {error.get('msg', 'invalid value')}"


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI parses a body without Content-Type as JSON
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    content_type = request.headers.get("content-type")
    if not _is_json(content_type):
        return error_response(
            request, 415, f"Content-Type is {content_type!r}; send the body as JSON with Content-Type: application/json"
        )
    # A body can carry thousands of problems (one per item): describe the first few, count the rest, so that an
    # error body stays a few KB whatever was sent.
    problems = exc.errors()
    shown = problems[:MAX_LISTED_PROBLEMS]
    described = [describe(error, request.url.path) for error in shown]
    status = max(status for status, _ in described)
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())][:8], "message": message}
        for error, (_, message) in zip(shown, described, strict=True)
    ]
    detail = "; ".join(dict.fromkeys(message for _, message in described[:5]))
    if len(problems) > 5:
        detail += f"; and {len(problems) - 5} more problems"
    return error_response(request, status, detail, errors)


async def service_error_handler(request: Request, exc: SpamServiceError) -> JSONResponse:
    if exc.status_code >= 500 and not isinstance(exc, UnavailableError):
        _logger.error("request %s failed: %s", request_id_of(request), exc)
        return error_response(request, exc.status_code, "internal error; the service log has the details")
    response = error_response(request, exc.status_code, str(exc))
    if isinstance(exc, UnavailableError):
        response.headers["retry-after"] = str(exc.retry_after)
    if isinstance(exc, AuthenticationError):
        response.headers["www-authenticate"] = AUTHENTICATE_HEADER
    if isinstance(exc, RateLimitedError):
        response.headers.update(exc.headers)
    return response


async def http_error_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else "request failed"
    headers = dict(exc.headers or {})
    if exc.status_code == 400 and detail == "There was an error parsing the body":  # FastAPI's, e.g. RecursionError
        example, _ = BODIES.get(request.url.path, (EXAMPLE_BODY, ""))
        detail = f"request body is not valid JSON or nests arrays/objects too deeply; send {example}"
    if exc.status_code == 405:
        # Starlette's Allow names only the first route that matched the path; /predict has one route per method.
        allowed = getattr(request.app.state, "methods_by_path", {}).get(request.url.path)
        if allowed:
            headers["allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed on {request.url.path}; use {headers.get('allow', 'another method')}"
    response = error_response(request, exc.status_code, detail)
    response.headers.update(headers)
    return response


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    _logger.exception("request %s failed unexpectedly", request_id_of(request))
    response = error_response(request, 500, "internal error; the service log has the details")
    # Starlette sends this answer from its outermost middleware, past the one that adds the header to the others.
    if (request_id := request_id_of(request)) is not None:
        response.headers["x-request-id"] = request_id
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(SpamServiceError, service_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error_handler)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error_handler)
