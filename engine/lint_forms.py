"""Deploy checks of a form file (``forms/<key>.json``): JSON, a valid JSON Schema (2020-12), and the motcua hints
it uses (``x-not-after`` bounds, ``x-ui`` accept lists) spelled so that they work.

A form nested past :data:`MAX_DEPTH` objects and lists is refused before any check walks it: the JSON Schema
check and the renderer recurse, and would fail with a ``RecursionError`` rather than a sentence.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine import forms
from engine.errors import Problem

MAX_DEPTH = 64  # objects and lists inside one another; a real form has fewer than ten


def check_form(name: str, data: bytes) -> list[Problem]:
    """A form file must be JSON and a valid JSON Schema (2020-12)."""
    too_deep = [Problem(name, f"the form is nested too deeply: at most {MAX_DEPTH} levels of objects and lists")]
    try:
        schema = json.loads(data)
    except ValueError as err:
        return [Problem(name, f"the form is not valid JSON: {err}")]
    except RecursionError:
        return too_deep
    nodes = _nodes(schema)
    if nodes is None:
        return too_deep
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as err:
        return [Problem(name, f"the form is not a valid JSON Schema: {err.message}")]
    problems = [Problem(name, f"{forms.NOT_AFTER} must be \"today\" or a date like 2026-12-31, not {bound!r}")
                for bound in (n[forms.NOT_AFTER] for n in nodes if forms.NOT_AFTER in n) if not _a_bound(bound)]
    known = ", ".join(forms.ACCEPT_ALIASES)
    return problems + [Problem(name, f"x-ui accept names {entry!r}, a kind of file that is never taken: uploads are "
                                     f"PDF, JPEG or PNG; write some of {known}")
                       for n in nodes if isinstance(n.get("x-ui"), dict)
                       for entry in forms.accept_entries({"x-ui": n["x-ui"]}) if entry not in forms.ACCEPT_ALIASES]


def _nodes(document: Any) -> list[dict] | None:
    """Every object of a JSON document, depth first; None when it is nested past :data:`MAX_DEPTH` (found without
    recursion)."""
    found: list[dict] = []
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            return None
        stack.extend((child, depth + 1) for child in reversed(children))
    return found


def _a_bound(bound: Any) -> bool:
    try:
        return bound == "today" or bool(dt.date.fromisoformat(bound))
    except (TypeError, ValueError):
        return False
