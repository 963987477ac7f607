"""What a script or a decision table may leave in a variable: values the instance's state can store.

A script may compute with ``range``, ``zip``, ``enumerate``, ``reversed`` or a dict's ``keys()``, but the objects
they return are not data: left in a variable, the state could not be written and the command failed with a
``TypeError`` (a server error, the officer's answer lost). :func:`check` names the variable instead, so the
script task or business rule task gets an incident the analyst can read.
"""
from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

SCALARS = (str, int, float, bool, type(None), dt.datetime, dt.date, dt.timedelta, decimal.Decimal, uuid.UUID)


def first_unstorable(value: Any) -> Any:
    """The first thing inside ``value`` that cannot be stored (a dict key that is not a string or number counts),
    or None."""
    if isinstance(value, SCALARS):
        return None
    if isinstance(value, dict):
        for key, inner in value.items():
            if not isinstance(key, (str, int, float, bool)):
                return key
            found = first_unstorable(inner)
            if found is not None:
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((found for found in map(first_unstorable, value) if found is not None), None)
    return value


def check(name: str, value: Any) -> None:
    """Raise ``TypeError`` in words if the variable ``name`` holds something that cannot be stored."""
    found = first_unstorable(value)
    if found is not None:
        kind = type(found).__name__
        raise TypeError(f"the variable '{name}' holds an object of type {kind}, which cannot be kept as a variable: "
                        f"turn it into a list first (list(...)) or keep only plain values")
