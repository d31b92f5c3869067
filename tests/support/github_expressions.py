"""GitHub Actions expressions (`if:` conditions), evaluated as the runner does for the subset the workflows use:
context paths (`github.event.workflow_run.event`), string/number/boolean/null literals, `==`, `!=`, `!`, `&&`, `||`
and parentheses. Anything else (functions, indexes, `<`) raises, so a condition the tests cannot judge fails loudly.

Semantics from GitHub's expression reference: a missing property is null; `&&` and `||` return an operand; strings
compare case-insensitively; operands of different types compare as numbers (null and '' as 0)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\))"
    r"|(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*))"
)


class UnsupportedExpression(ValueError):
    pass


def evaluate(expression: str, contexts: Mapping[str, object]) -> object:
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    tokens = _tokenize(text)
    value, rest = _or(tokens, contexts)
    if rest:
        raise UnsupportedExpression(f"unexpected {rest[0][1]!r} in {expression!r}")
    return value


def truthy(value: object) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, float) and math.isnan(value))


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while text[position:].strip():
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise UnsupportedExpression(f"cannot read {text[position:]!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _or(tokens, contexts):
    left, tokens = _and(tokens, contexts)
    while tokens and tokens[0] == ("op", "||"):
        right, tokens = _and(tokens[1:], contexts)
        left = left if truthy(left) else right
    return left, tokens


def _and(tokens, contexts):
    left, tokens = _comparison(tokens, contexts)
    while tokens and tokens[0] == ("op", "&&"):
        right, tokens = _comparison(tokens[1:], contexts)
        left = right if truthy(left) else left
    return left, tokens


def _comparison(tokens, contexts):
    left, tokens = _unary(tokens, contexts)
    while tokens and tokens[0] in (("op", "=="), ("op", "!=")):
        operator = tokens[0][1]
        right, tokens = _unary(tokens[1:], contexts)
        left = _equal(left, right) == (operator == "==")
    return left, tokens


def _unary(tokens, contexts):
    if not tokens:
        raise UnsupportedExpression("the expression ends early")
    kind, text = tokens[0]
    if (kind, text) == ("op", "!"):
        value, rest = _unary(tokens[1:], contexts)
        return not truthy(value), rest
    if (kind, text) == ("op", "("):
        value, rest = _or(tokens[1:], contexts)
        if not rest or rest[0] != ("op", ")"):
            raise UnsupportedExpression("unbalanced parentheses")
        return value, rest[1:]
    if kind == "string":
        return text[1:-1].replace("''", "'"), tokens[1:]
    if kind == "number":
        return float(text), tokens[1:]
    if kind == "path":
        if len(tokens) > 1 and tokens[1] == ("op", "("):
            raise UnsupportedExpression(f"function {text}() is not supported")
        literals = {"true": True, "false": False, "null": None}
        if text in literals:
            return literals[text], tokens[1:]
        return _lookup(text, contexts), tokens[1:]
    raise UnsupportedExpression(f"unexpected {text!r}")


def _lookup(path: str, contexts: Mapping[str, object]) -> object:
    value: object = contexts
    for name in path.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return value


def _number(value: object) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if not value.strip():
            return 0.0
        try:
            return float(value)
        except ValueError:
            return math.nan
    return math.nan


def _equal(left: object, right: object) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, int | float):
        return left == right
    return _number(left) == _number(right)
