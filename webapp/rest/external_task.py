"""``/engine-rest/external-task``: what workers call (Camunda 7's external task contract)."""
from __future__ import annotations

import random
import time

from flask import Response, jsonify

from engine import db, external_tasks, queries
from engine.errors import BadInput
from webapp import database
from engine import typed_variables as variables
from webapp.rest import blueprint
from webapp.rest.auth import require_operator
from webapp.rest.common import body, bool_arg, duration_field, int_field, paging, str_field
from flask import request

POLL_FIRST_MS = 50
POLL_MAX_MS = 500


# Camunda 7's fetchAndLock topic options that narrow which tasks are locked; motcua does not filter by them
UNSUPPORTED_FILTERS = frozenset({"businessKey", "processDefinitionId", "processDefinitionIdIn", "processDefinitionKey",
                                 "processDefinitionKeyIn", "processDefinitionVersionTag", "processVariables",
                                 "tenantIdIn", "withoutTenantId"})


def _topics(data) -> tuple[dict[str, int], dict[str, list[str] | None]]:
    topics = data.get("topics")
    if not isinstance(topics, list) or not topics:
        raise BadInput("topics must be a non-empty list of {topicName, lockDuration}")
    durations, wanted = {}, {}
    for item in topics:
        if not isinstance(item, dict):
            raise BadInput("every topic needs a topicName")
        topic = str_field(item, "topicName", required=True)
        filters = sorted(k for k, v in item.items() if k in UNSUPPORTED_FILTERS and v not in (None, False, [], {}))
        if filters:  # silently ignored, they would hand a worker tasks not meant for it
            raise BadInput(f"topic {topic}: {', '.join(filters)} cannot be used to choose tasks here; give each "
                           "kind of work its own topic")
        durations[topic] = duration_field(item, "lockDuration", minimum=1) or 0
        if not durations[topic]:
            raise BadInput(f"topic {topic}: lockDuration (ms) is required")
        names = item.get("variables")
        wanted[topic] = names if isinstance(names, list) else None
    return durations, wanted


def _locked_json(task, names: list[str] | None) -> dict:
    return {"id": task.id, "topicName": task.topic, "workerId": task.worker_id,
            "lockExpirationTime": task.lock_expires_at.isoformat(), "activityId": task.activity_id,
            "processInstanceId": task.instance_id, "processDefinitionId": task.definition_id,
            "processDefinitionKey": task.process_key, "businessKey": task.business_key, "priority": task.priority,
            "retries": task.retries, "errorMessage": task.error_message, "tenantId": None,
            "variables": variables.encode(task.variables, names)}


@blueprint.post("/external-task/fetchAndLock")
def external_task_fetch_and_lock():
    """Lock up to maxTasks tasks; with asyncResponseTimeout, wait that long for one to come (long polling)."""
    require_operator()
    data = body()
    worker_id = str_field(data, "workerId", required=True)
    max_tasks = int_field(data, "maxTasks", minimum=0)
    if max_tasks is None:
        raise BadInput("maxTasks is required")
    durations, wanted = _topics(data)
    settings = database.state().settings
    wait_ms = min(duration_field(data, "asyncResponseTimeout", 0, minimum=0), settings.long_poll_max_ms)
    deadline = time.monotonic() + wait_ms / 1000
    pause = POLL_FIRST_MS
    factory = database.state().factory
    while True:
        with db.transaction(factory) as session:
            locked = external_tasks.fetch_and_lock(session, worker_id, durations, max_tasks,
                                                   use_priority=data.get("usePriority", True) is not False)
        remaining = deadline - time.monotonic()
        if locked or remaining <= 0:
            return jsonify([_locked_json(t, wanted.get(t.topic)) for t in locked])
        time.sleep(min(remaining, pause / 1000 * random.uniform(0.8, 1.2)))
        pause = min(pause * 2, POLL_MAX_MS)


def _command(fn, *args, **kwargs) -> Response:
    session = database.session()
    fn(session, *args, **kwargs)
    database.commit()
    return Response(status=204)


def _worker(data) -> str:
    return str_field(data, "workerId", required=True)


@blueprint.post("/external-task/<task_id>/complete")
def external_task_complete(task_id: str):
    """Complete a locked task with variables (and local variables)."""
    require_operator()
    data = body()
    return _command(external_tasks.complete, task_id, _worker(data), variables.decode(data.get("variables")),
                    variables.decode(data.get("localVariables")))


@blueprint.post("/external-task/<task_id>/failure")
def external_task_failure(task_id: str):
    """Report a failure; the worker says how many retries are left (0 opens an incident)."""
    require_operator()
    data = body()
    return _command(external_tasks.failure, task_id, _worker(data), str_field(data, "errorMessage", ""),
                    str_field(data, "errorDetails"), int_field(data, "retries", 0, minimum=0),
                    duration_field(data, "retryTimeout", 0, minimum=0))


@blueprint.post("/external-task/<task_id>/bpmnError")
def external_task_bpmn_error(task_id: str):
    """Throw a BPMN error from the task (an error boundary event catches it, else an incident)."""
    require_operator()
    data = body()
    return _command(external_tasks.bpmn_error, task_id, _worker(data), str_field(data, "errorCode", ""),
                    str_field(data, "errorMessage"), variables.decode(data.get("variables")))


@blueprint.post("/external-task/<task_id>/extendLock")
def external_task_extend_lock(task_id: str):
    """Extend the caller's lock by newDuration ms from now."""
    require_operator()
    data = body()
    return _command(external_tasks.extend_lock, task_id, _worker(data), duration_field(data, "newDuration", minimum=1))


@blueprint.post("/external-task/<task_id>/unlock")
def external_task_unlock(task_id: str):
    """Release the task's lock."""
    require_operator()
    return _command(external_tasks.unlock, task_id)


@blueprint.put("/external-task/<task_id>/retries")
def external_task_set_retries(task_id: str):
    """Set the task's retries; more than 0 resolves its incident."""
    actor = require_operator()
    return _command(external_tasks.set_retries, task_id, int_field(body(), "retries", minimum=0), actor)


@blueprint.get("/external-task")
def external_task_listing():
    """External tasks, with Camunda's filters."""
    require_operator()
    limit, offset = paging()
    locked = True if bool_arg("locked") else (False if bool_arg("notLocked") else None)
    retries = True if bool_arg("withRetriesLeft") else (False if bool_arg("noRetriesLeft") else None)
    return jsonify(queries.external_tasks(database.session(), request.args.get("topicName"),
                                          request.args.get("workerId"), request.args.get("processInstanceId"),
                                          locked, retries, limit, offset))


@blueprint.get("/external-task/topic-names")
def external_task_topic_names():
    """The topics that have tasks."""
    require_operator()
    return jsonify([t["topicName"] for t in queries.topics(database.session()) if t["waiting"] + t["locked"]
                    + t["incidents"]])


@blueprint.get("/external-task/<task_id>")
def external_task_get(task_id: str):
    """One external task."""
    require_operator()
    return jsonify(queries.external_task(database.session(), task_id))


@blueprint.get("/external-task/<task_id>/errorDetails")
def external_task_error_details(task_id: str):
    """The full error details the worker sent with its last failure (text)."""
    require_operator()
    details = queries.external_task(database.session(), task_id, with_details=True)["errorDetails"]
    return Response(details or "", mimetype="text/plain")
