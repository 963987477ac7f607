"""The worker runner, in-process against the database: fetch and lock, handle, complete or fail.

Handlers are plain functions of a task's variables, registered by topic in :data:`HANDLERS`. The
runner does the locking and turns a handler's outcome into the right engine command: variables complete
the task, :class:`BpmnError` throws a BPMN error, any other exception reports a failure with one retry
fewer (3 to start with, then an incident).
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import db, external_tasks
from engine.errors import MotcuaError
from workers import population_lookup
from workers.errors import BpmnError, RetryableError

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {population_lookup.TOPIC: population_lookup.handle}
LOCK_DURATION_MS = 60_000
DEFAULT_RETRIES = 3
RETRY_TIMEOUT_MS = 10_000


@dataclass
class Outcome:
    """What happened to one task."""

    task_id: str
    topic: str
    result: str  # completed, bpmn_error, failed, lost
    detail: str = ""


def run_once(factory, worker_id: str, handlers: dict[str, Handler] | None = None, max_tasks: int = 10) -> list[Outcome]:
    """Lock up to ``max_tasks`` tasks of the handled topics and do them one by one."""
    handlers = handlers or HANDLERS
    with db.transaction(factory) as session:
        locked = external_tasks.fetch_and_lock(session, worker_id, {t: LOCK_DURATION_MS for t in handlers}, max_tasks)
    return [_do(factory, worker_id, task, handlers[task.topic]) for task in locked]


def _do(factory, worker_id: str, task, handler: Handler) -> Outcome:
    try:
        variables = handler(dict(task.variables))
    except BpmnError as err:
        return _report(factory, task, "bpmn_error", err.code, lambda s: external_tasks.bpmn_error(
            s, task.id, worker_id, err.code, err.message, err.variables))
    except Exception as err:  # the handler failed: report it, never lose the task
        retries = (task.retries if task.retries is not None else DEFAULT_RETRIES) - 1
        message = f"{type(err).__name__}: {err}"
        timeout = RETRY_TIMEOUT_MS if isinstance(err, RetryableError) else RETRY_TIMEOUT_MS * 3
        return _report(factory, task, "failed", message, lambda s: external_tasks.failure(
            s, task.id, worker_id, message, traceback.format_exc(), max(retries, 0), timeout))
    return _report(factory, task, "completed", "", lambda s: external_tasks.complete(
        s, task.id, worker_id, variables or {}))


def _report(factory, task, result: str, detail: str, command) -> Outcome:
    try:
        with db.transaction(factory) as session:
            command(session)
    except MotcuaError as err:  # e.g. the lock expired and another worker took the task
        log.warning("task %s: %s", task.id, err.message, extra={"action": "report_failed"})
        return Outcome(task.id, task.topic, "lost", err.message)
    return Outcome(task.id, task.topic, result, detail)
