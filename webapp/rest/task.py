"""``/engine-rest/task``: user tasks for integrations (the inbox uses the same engine commands)."""
from __future__ import annotations

import datetime as dt
import json

from flask import Response, jsonify, request

from engine import queries, user_tasks
from webapp import database
from engine import typed_variables as variables
from webapp.rest import blueprint
from webapp.rest.auth import actor, agency_scope
from engine.errors import BadInput, NotFound
from webapp.rest.common import body, bool_arg, paging, str_field


def task_json(row: dict) -> dict:
    """A user task in Camunda's shape (with motcua's candidate lists)."""
    return {"id": row["id"], "name": row["name"], "assignee": row["assignee"], "created": row["created"],
            "due": row["due"], "followUp": None, "priority": row["priority"], "owner": None, "delegationState": None,
            "description": None, "executionId": row["processInstanceId"],
            "processInstanceId": row["processInstanceId"], "processDefinitionId": row["processDefinitionId"],
            "taskDefinitionKey": row["taskDefinitionKey"], "formKey": row["formKey"], "suspended": row["suspended"],
            "tenantId": None, "businessKey": row["businessKey"], "candidateGroups": row["candidateGroups"],
            "candidateUsers": row["candidateUsers"], "overdue": row["overdue"]}


def visible(task_id: str) -> str:
    """The task's id if the caller may see it: an officer of an agency, only their agency's dossiers' tasks
    (anything else is 404, as if it did not exist)."""
    if not queries.task_in_agency(database.session(), task_id, agency_scope()):
        raise NotFound(f"no open user task {task_id}")
    return task_id


@blueprint.get("/task")
def task_listing():
    """Open tasks by candidateGroup, assignee, processInstanceId, dueBefore and overdue=true."""
    limit, offset = paging()
    due_before = request.args.get("dueBefore")
    try:
        due_before = dt.datetime.fromisoformat(due_before.replace("Z", "+00:00")) if due_before else None
    except ValueError:
        raise BadInput(f"dueBefore: '{due_before}' is not an ISO 8601 date and time") from None
    if due_before is not None and due_before.tzinfo is None:
        raise BadInput("dueBefore needs a time zone (e.g. 2026-12-01T17:00:00+07:00)")
    rows = queries.user_tasks(database.session(), request.args.get("candidateGroup"), request.args.get("assignee"),
                              request.args.get("processInstanceId"), limit, offset, due_before,
                              bool_arg("overdue") is True, agency_scope())
    return jsonify([task_json(r) for r in rows])


@blueprint.get("/task/<task_id>")
def task_get(task_id: str):
    """One open task."""
    return jsonify(task_json(queries.user_task(database.session(), visible(task_id))))


@blueprint.post("/task/<task_id>/claim")
def task_claim(task_id: str):
    """Make userId the assignee."""
    user_tasks.claim(database.session(), visible(task_id), actor(), str_field(body(), "userId"))
    database.commit()
    return Response(status=204)


@blueprint.post("/task/<task_id>/unclaim")
def task_unclaim(task_id: str):
    """Give the task back to its groups."""
    user_tasks.unclaim(database.session(), visible(task_id), actor())
    database.commit()
    return Response(status=204)


@blueprint.post("/task/<task_id>/complete")
def task_complete(task_id: str):
    """Complete the task with variables (checked against its form); 204, or the variables if asked."""
    data = body()
    loaded = user_tasks.complete(database.session(), visible(task_id), actor(), variables.decode(data.get("variables")))
    database.commit()
    if data.get("withVariablesInReturn"):
        return jsonify(variables.encode(json.loads(loaded.row.variables)))
    return Response(status=204)


@blueprint.get("/task/<task_id>/form-variables")
def task_form_variables(task_id: str):
    """The variables the task's form shows, typed (all instance variables when it has no form)."""
    schema, values = queries.task_form(database.session(), visible(task_id))
    names = None
    if schema and isinstance(schema.get("properties"), dict):
        names = list(schema["properties"])
    wanted = request.args.get("variableNames")
    if wanted:
        names = [n for n in wanted.split(",") if n]
    return jsonify(variables.encode(values, names))


@blueprint.get("/task/<task_id>/variables")
def task_variables(task_id: str):
    """The variables the task sees, typed: the instance's, and those it holds for itself (Camunda's local
    variables: an instance's item of a multi-instance activity)."""
    _, values = queries.task_form(database.session(), visible(task_id))
    return jsonify(variables.encode(values))
