"""Comparing what a scenario expects with what happened, and saying the first difference in words."""
from __future__ import annotations

import datetime as dt
from typing import Any

from engine.dossiers import STATUSES
from engine.scenarios.coverage import DiagramElements
from engine.scenarios.model import Expect

VIETNAM = dt.timezone(dt.timedelta(hours=7))


def path_of(detail: dict[str, Any]) -> list[str]:
    """The elements the dossier passed, in order (each completed element, as the history has them)."""
    return [h["activityId"] for h in detail["history"] if h["kind"] == "activity_completed" and h["activityId"]]


def _status(code: int | None) -> str:
    return f"{code} ({STATUSES.get(code, '?')})" if code is not None else "none (the procedure has no deadline)"


def _name(element: str, elements: DiagramElements) -> str:
    return f"'{element}' {elements.nodes[element]}" if element in elements.nodes else f"'{element}'"


def waiting_text(waiting: list[tuple[str, str]], status: str | None) -> str:
    """``it waits at: …`` or ``it has ended``."""
    if status in ("completed", "terminated") and not waiting:
        return f"the dossier's process has {'ended' if status == 'completed' else 'been terminated'}"
    if not waiting:
        return "it waits for nothing"
    return "it waits for: " + "; ".join(text for _, text in waiting)


def _path_difference(expected: list[str], path: list[str], elements: DiagramElements) -> str | None:
    shown = " → ".join(path) or "(nothing)"
    position = 0
    previous = None
    for element in expected:
        try:
            position = path.index(element, position) + 1
        except ValueError:
            after = f" after {_name(previous, elements)}" if previous else ""
            if element in path:
                return (f"expected the path to pass {_name(element, elements)}{after}, but it passed it only "
                        f"before; the path was: {shown}")
            return f"expected the path to pass {_name(element, elements)}{after}, but it did not; the path was: {shown}"
        previous = element
    return None


def _moment(value: Any) -> Any:
    """A moment written in any offset (or a YAML timestamp), as Vietnam time, to compare."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return value
    return (value if value.tzinfo else value.replace(tzinfo=VIETNAM)).astimezone(VIETNAM).isoformat()


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict) and isinstance(actual, dict):
        return all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    return expected == actual


def first_difference(expect: Expect, detail: dict[str, Any], waiting: list[tuple[str, str]],
                     elements: DiagramElements) -> str | None:
    """The first way the dossier differs from ``expect``, in words; None if it matches."""
    path = path_of(detail)
    dossier = detail.get("dossier") or {}
    ended = detail["status"] == "completed"
    if expect.ended is not None and expect.ended != ended:
        return (f"expected the process to have ended, but {waiting_text(waiting, detail['status'])}" if expect.ended
                else "expected the process to be still running, but it has ended")
    if expect.end is not None and expect.end not in path:
        return (f"expected the process to end at {_name(expect.end, elements)}, but "
                + (f"it ended elsewhere; the path was: {' → '.join(path)}" if ended
                   else waiting_text(waiting, detail["status"])))
    if expect.path is not None:
        difference = _path_difference(expect.path, path, elements)
        if difference:
            return difference
    for element in expect.not_reached:
        if element in path:
            return f"expected the path not to pass {_name(element, elements)}, but it did; the path was: {' → '.join(path)}"
    if expect.status is not None and dossier.get("status") != expect.status:
        return f"expected the dossier status {_status(expect.status)}, but it is {_status(dossier.get('status'))}"
    if expect.waiting is not None:
        at = sorted({element for element, _ in waiting if element})
        if sorted(set(expect.waiting)) != at:
            return (f"expected the dossier to wait at {', '.join(_name(e, elements) for e in expect.waiting) or 'nothing'}"
                    f", but {waiting_text(waiting, detail['status'])}")
    if expect.overdue is not None and bool(dossier.get("overdue")) != expect.overdue:
        due = dossier.get("dueAt")
        return (f"expected the dossier to be {'overdue' if expect.overdue else 'on time'}, but it is "
                f"{'overdue' if dossier.get('overdue') else 'on time'} (due {due})")
    for name, value in expect.dossier.items():
        actual = dossier.get(name)
        if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, str) and isinstance(actual, str)
                                                        and value[:4].isdigit() and actual[:4].isdigit()):
            value, actual = _moment(value), _moment(actual)
        if not _same(value, actual):
            return f"expected the dossier's {name} to be {value!r}, but it is {actual!r}"
    variables = detail.get("variables") or {}
    for name, value in expect.variables.items():
        if name not in variables:
            return f"expected the variable '{name}' to be {value!r}, but it is not set"
        if not _same(value, variables[name]):
            return f"expected the variable '{name}' to be {value!r}, but it is {variables[name]!r}"
    open_at = {i["activityId"] for i in detail.get("incidents", []) if not i.get("resolvedAt")}
    for element in expect.incidents:
        if element not in open_at:
            return f"expected an incident at {_name(element, elements)}, but there is none"
    return None
