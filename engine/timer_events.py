"""Timer event definitions whose bad values become incidents on their element, not server errors.

SpiffWorkflow evaluates a timer's expression when the timer starts waiting and parses the result as an ISO 8601
date, duration or cycle; a value it cannot parse (``31/12/2026`` from a form, ``2026-13-45``) raises a plain
``ValueError`` that escapes ``do_engine_steps`` with no task attached. Here such errors are raised as
SpiffWorkflow's ``WorkflowTaskException`` on the waiting task, which :func:`engine.runtime.advance` turns into an
incident like any failing expression. A cycle whose interval is not positive (``R/PT0S``) would fire without end
inside one command, so it is refused the same way.

At deploy, a literal value that cannot run is refused (:func:`literal_problem`), and so is a Quartz cron expression
(:func:`cron_problem`), which Camunda 7 reads in a ``timeCycle`` and SpiffWorkflow does not.
"""
from __future__ import annotations

import ast
import datetime as dt
import math
import re

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.exceptions import SpiffWorkflowException


def _as_incident(task, kind: str, err: Exception) -> WorkflowTaskException:
    # SpiffWorkflow refreshes every timer it has registered, whatever its state: unregistered, the failed timer
    # stays failed instead of failing again on the next refresh
    task.workflow.top_workflow.event_manager.remove_task(task)
    value = task._get_internal_data("event_value")
    shown = f" {value!r}" if value is not None else ""
    return WorkflowTaskException(f"the timer's {kind}{shown} cannot be used: {err} (write an ISO 8601 {kind}, "
                                 "e.g. 2026-12-31T17:00:00+07:00, P3D or R3/PT1H)", task=task, exception=err)


def _incident_on_error(method, kind: str):
    """``method`` of a timer definition, with a plain exception it raises turned into the element's incident."""
    def run(self, my_task):
        try:
            return method(self, my_task)
        except SpiffWorkflowException:
            raise
        except Exception as err:  # noqa: BLE001 - whatever the value was, it becomes the element's incident
            raise _as_incident(my_task, kind, err) from err
    return run


# Named as SpiffWorkflow's: an event-based gateway keeps the events it has seen in the state, stored by class
# name, so states written before and after these classes existed both come back as them (engine.serializer).
class TimeDateEventDefinition(spiff_timer.TimeDateEventDefinition):
    """A timer at a date and time."""

    has_fired = _incident_on_error(spiff_timer.TimeDateEventDefinition.has_fired, "date")


def duration_problem(value) -> str | None:
    """Why a duration SpiffWorkflow would misread silently cannot be used: it drops a leading minus (``-PT1H``
    waited an hour) and reads a bare ``P`` as no time at all."""
    text = value.strip().upper() if isinstance(value, str) else ""
    if text.startswith("-"):
        return f"the duration '{value}' is negative: a timer waits a positive duration (PT1H) or until a date"
    if text == "P":
        return f"the duration '{value}' gives no time: write one such as PT5M or P3D"
    return None


def _checked_duration(method):
    def has_fired(self, my_task):
        if my_task._get_internal_data("event_value") is None:
            problem = duration_problem(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            if problem:
                raise ValueError(problem)
        return method(self, my_task)
    return has_fired


class DurationTimerEventDefinition(spiff_timer.DurationTimerEventDefinition):
    """A timer after a duration; a negative or empty one is an incident."""

    has_fired = _incident_on_error(_checked_duration(spiff_timer.DurationTimerEventDefinition.has_fired), "duration")


class CycleTimerEventDefinition(spiff_timer.CycleTimerEventDefinition):
    """A repeating timer; its interval must be positive, and repetitions it missed fire once, not each."""

    def cycle_complete(self, my_task):
        ready = _incident_on_error(spiff_timer.CycleTimerEventDefinition.cycle_complete, "cycle")(self, my_task)
        value = my_task._get_internal_data("event_value")
        if isinstance(value, dict) and value.get("cycles") not in (0, 1) and not value.get("duration", 0) > 0:
            raise _as_incident(my_task, "cycle", ValueError("its interval must be longer than zero"))
        if ready and isinstance(value, dict):
            my_task._set_internal_data(event_value=skip_missed(value, dt.datetime.now(dt.timezone.utc)))
        return ready


def skip_missed(value: dict, now: dt.datetime) -> dict:
    """A cycle's state (SpiffWorkflow's ``{'cycles', 'next', 'duration'}``) with the repetitions already past
    ``now`` skipped. SpiffWorkflow fires every repetition it missed, one after the other in one command: a cycle
    starting in the past (``R/2020-01-01T00:00:00Z/PT1H``) or a scheduler stopped for a day set off thousands of
    branches at once. As Camunda does, the missed ones count as fired by the one firing now; a cycle of ``R3`` whose
    three repetitions all passed fires that once and ends."""
    moment = dt.datetime.fromisoformat(value["next"]) if isinstance(value.get("next"), str) else None
    interval = dt.timedelta(seconds=value.get("duration") or 0)
    if value.get("cycles") == 0 or moment is None or moment.tzinfo is None or interval <= dt.timedelta(0) \
            or moment >= now:
        return value
    missed = math.ceil((now - moment) / interval)
    cycles = value["cycles"] if value["cycles"] < 0 else max(value["cycles"] - missed, 0)
    return {**value, "cycles": cycles, "next": (moment + missed * interval).isoformat()}


TIMER_CLASSES = {spiff_timer.TimeDateEventDefinition: TimeDateEventDefinition,
                 spiff_timer.DurationTimerEventDefinition: DurationTimerEventDefinition,
                 spiff_timer.CycleTimerEventDefinition: CycleTimerEventDefinition}
"""SpiffWorkflow's timer classes and motcua's, which the parser makes instead."""


class TimerEvents:
    """Mixed into the event parsers so timer events get the classes above."""

    def parse_timer_event(self, event):
        parsed = super().parse_timer_event(event)
        motcua_class = TIMER_CLASSES.get(type(parsed))
        if motcua_class is None:
            return parsed
        return motcua_class(parsed.name, parsed.expression, description=parsed.description)


def literal_problem(tag: str, text: str) -> str | None:
    """Why a timer's literal value (``timeDate``, ``timeDuration`` or ``timeCycle`` text that is an ISO 8601
    literal, not an expression) cannot be run, or None."""
    Timer = spiff_timer.TimerEventDefinition
    try:
        if tag == "timeDate":
            Timer.parse_time_or_duration(text)
        elif tag == "timeDuration":
            Timer.parse_iso_duration(text)
            if duration_problem(text):
                return duration_problem(text)
        else:
            cycles, _start, interval = Timer.parse_iso_recurring_interval(text)
            if cycles not in (0, 1) and not interval.total_seconds() > 0:
                return f"the cycle '{text}' repeats with no interval: give it a positive duration, e.g. R3/PT1H"
    except Exception as err:  # noqa: BLE001 - SpiffWorkflow raises plain exceptions for bad ISO 8601
        return f"'{text}' is not an ISO 8601 {tag[4:].lower()} ({err}); e.g. 2026-12-31T17:00:00+07:00, P3D, R3/PT1H"
    return None


_CRON_FIELD = r"[0-9A-Za-z*?/,#\-]+"
_CRON = re.compile(rf"^{_CRON_FIELD}(\s+{_CRON_FIELD}){{5,6}}$")


def cron_problem(text: str) -> str | None:
    """Why a timer's text that is a Quartz cron expression (``0/5 * * * * ?``, six or seven fields, as Camunda 7
    reads in a ``timeCycle``) cannot run, with the ISO 8601 cycle to write instead; None for any other text."""
    if not _CRON.match(text.strip()) or not any(c in text for c in "*?"):
        return None
    try:
        ast.parse(text.strip(), mode="eval")
        return None  # a Python expression after all (a * b * c * d)
    except SyntaxError:
        pass
    return (f"'{text.strip()}' is a cron expression, which motcua does not run: write the cycle in ISO 8601, "
            "R/PT5M for every 5 minutes, R/2026-12-01T07:00:00+07:00/P1D for every day at 07:00, or R3/PT1H for "
            "three times an hour apart")


def placement_problem(tag: str, element) -> str | None:
    """Why a timer value cannot go on the event it is on: a cycle on an intermediate catch event (SpiffWorkflow
    would pass the token on at every repetition, so ``R3/PT1H`` made three tokens after it)."""
    event = element.getparent().getparent() if element.getparent() is not None else None
    if tag == "timeCycle" and event is not None and event.tag.endswith("}intermediateCatchEvent"):
        return ("a cycle on an intermediate timer would pass the token on at every repetition: an intermediate "
                "timer waits once (timeDate or timeDuration); put a cycle on a start event or a boundary event")
    return None
