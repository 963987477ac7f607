"""Camunda 7's typed variables, both ways: ``{"name": {"value": …, "type": "String"}}`` ⇄ plain JSON values.

Process variables are plain JSON inside motcua. A ``Json`` (or ``Object`` with
``serializationDataFormat: application/json``) value arrives as a JSON string, as Camunda clients send it,
or as an object; it goes out as a JSON string, as Camunda returns it. ``Date`` values are kept as ISO 8601
text (the sandbox's ``parse_datetime`` reads them back).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from engine.errors import InvalidVariables

INT32 = 2**31 - 1
CAMUNDA_DATE = "%Y-%m-%dT%H:%M:%S.%f%z"


def _date(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidVariables(f"variable '{name}': a Date is text such as 2026-11-27T09:30:00.000+0700")
    for parse in (dt.datetime.fromisoformat, lambda v: dt.datetime.strptime(v, CAMUNDA_DATE)):
        try:
            moment = parse(value)
        except ValueError:
            continue
        return moment.isoformat()
    raise InvalidVariables(f"variable '{name}': '{value}' is not a date and time (ISO 8601)")


def _number(name: str, value: Any, kind: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidVariables(f"variable '{name}': {kind} needs a number, not {json.dumps(value)}")
    try:
        number = float(value) if kind == "Double" else int(value)
    except ValueError:
        raise InvalidVariables(f"variable '{name}': '{value}' is not a {kind}") from None
    if kind == "Double" and not math.isfinite(number):
        raise InvalidVariables(f"variable '{name}': {value} is not a finite number")
    if kind in ("Integer", "Short") and abs(number) > INT32:
        raise InvalidVariables(f"variable '{name}': {value} does not fit an {kind}; use Long")
    if kind != "Double" and isinstance(value, float) and not value.is_integer():
        raise InvalidVariables(f"variable '{name}': {value} is not a whole number")
    return number


def _json(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as err:
            raise InvalidVariables(f"variable '{name}': the Json value is not valid JSON ({err})") from None
        except RecursionError:
            raise InvalidVariables(f"variable '{name}': the Json value is nested too deeply") from None
    return value


def decode_value(name: str, typed: Any) -> Any:
    """One typed variable as a plain value; a clear :class:`InvalidVariables` if it does not fit its type."""
    if not isinstance(typed, dict) or "value" not in typed and typed.get("type") not in ("Null", "null"):
        raise InvalidVariables(f"variable '{name}' must be an object with a 'value' (and a 'type')")
    kind = (typed.get("type") or "").strip()
    kind = kind[:1].upper() + kind[1:]
    value = typed.get("value")
    if kind == "Null" or value is None:
        return None
    if kind == "":
        return value
    if kind == "String":
        if not isinstance(value, str):
            raise InvalidVariables(f"variable '{name}': a String needs text")
        return value
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise InvalidVariables(f"variable '{name}': a Boolean is true or false")
    if kind in ("Integer", "Long", "Short", "Double"):
        return _number(name, value, kind)
    if kind == "Date":
        return _date(name, value)
    if kind == "Json" or (kind == "Object" and (typed.get("valueInfo") or {}).get(
            "serializationDataFormat", "application/json") == "application/json"):
        return _json(name, value)
    raise InvalidVariables(f"variable '{name}': type '{typed.get('type')}' is not supported (use String, Integer, "
                           "Long, Double, Boolean, Json, Date or Null)")


def decode(typed: Any) -> dict[str, Any]:
    """A Camunda variables object as plain variables."""
    if typed is None:
        return {}
    if not isinstance(typed, dict):
        raise InvalidVariables("variables must be an object of name: {value, type}")
    return {name: decode_value(name, value) for name, value in typed.items()}


def encode_value(value: Any) -> dict[str, Any]:
    """A plain value as a Camunda typed variable."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if abs(value) <= INT32 else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    return {"type": "Json", "value": json.dumps(value, ensure_ascii=False), "valueInfo": {}}


def encode(variables: dict[str, Any], names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Plain variables as a Camunda variables object, optionally only the ``names`` asked for."""
    wanted = variables if names is None else {n: variables[n] for n in names if n in variables}
    return {name: encode_value(value) for name, value in wanted.items()}
