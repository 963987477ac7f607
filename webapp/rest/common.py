"""Small helpers the REST views share: the JSON body and query-string arguments."""
from __future__ import annotations

from typing import Any

from flask import request

from engine.errors import BadInput
from engine.limits import DURATION_MAX_MS, INT_MAX  # (Java's int; a year of milliseconds)

MAX_RESULTS = 1000


def body() -> dict[str, Any]:
    """The request's JSON object (an empty body is an empty object)."""
    if not request.get_data(cache=True):
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:
        raise BadInput("the request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise BadInput("the request body must be a JSON object")
    return data


def bool_arg(name: str) -> bool | None:
    """A true/false query argument, or None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise BadInput(f"query parameter {name} must be true or false")
    return value.lower() == "true"


def int_field(data: dict[str, Any], name: str, default: int | None = None, minimum: int | None = None,
              maximum: int = INT_MAX) -> int | None:
    """An integer field of a JSON body between ``minimum`` and ``maximum``; absent or null is ``default``."""
    value = data.get(name)
    if value is None:
        value = default
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number")
    if minimum is not None and value < minimum:
        raise BadInput(f"{name} must be at least {minimum}")
    if value > maximum:
        raise BadInput(f"{name} must be at most {maximum}")
    return value


def duration_field(data: dict[str, Any], name: str, default: int | None = None, minimum: int | None = None) -> int | None:
    """A duration in milliseconds (at most :data:`DURATION_MAX_MS`), as :func:`int_field` reads it."""
    return int_field(data, name, default, minimum, DURATION_MAX_MS)


def str_field(data: dict[str, Any], name: str, default: str | None = None, required: bool = False) -> str | None:
    """A text field of a JSON body; absent or null is ``default`` (:class:`BadInput` when ``required``)."""
    value = data.get(name)
    if value is None:
        value = default
    if value is None or (required and value == ""):
        if required:
            raise BadInput(f"{name} is required")
        return value
    if not isinstance(value, str):
        raise BadInput(f"{name} must be text")
    return value


def paging() -> tuple[int, int]:
    """Camunda's ``firstResult`` and ``maxResults`` query arguments as (limit, offset)."""
    try:
        offset = int(request.args.get("firstResult", 0))
        limit = int(request.args.get("maxResults", 100))
    except ValueError:
        raise BadInput("firstResult and maxResults must be whole numbers") from None
    if offset < 0 or limit < 0:
        raise BadInput("firstResult and maxResults cannot be negative")
    return min(limit, MAX_RESULTS), offset
