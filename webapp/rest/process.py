"""``/engine-rest/process-definition`` and ``/engine-rest/process-instance``: start and read instances."""
from __future__ import annotations

import json

from flask import Response, jsonify, request

from engine import instances, queries
from engine.errors import NotFound
from webapp import database
from engine import typed_variables as variables
from webapp.rest import blueprint
from webapp.rest.auth import actor, agency_scope, require_operator
from webapp.rest.common import body, paging, str_field


def instance_json(row: dict) -> dict:
    """An instance in Camunda's shape (with motcua's extra fields)."""
    return {"id": row["id"], "definitionId": row["definitionId"], "businessKey": row["businessKey"],
            "ended": row["status"] in ("completed", "terminated"), "suspended": row["status"] == "suspended",
            "tenantId": None, "links": [], **{k: row[k] for k in ("processKey", "status", "version", "openIncidents",
                                                                    "startedAt", "endedAt")}}


def definition_json(row: dict) -> dict:
    """A definition in Camunda's shape."""
    return {"id": row["id"], "key": row["key"], "name": row["name"], "version": row["version"],
            "deploymentId": row["deploymentId"], "resource": row["resource"], "suspended": False, "tenantId": None}


@blueprint.get("/process-definition")
def definitions():
    """Every deployed definition (newest version first per key), optionally of one key."""
    return jsonify([definition_json(d) for d in queries.definitions(database.session(), request.args.get("key"))])


@blueprint.get("/process-definition/key/<key>")
def definition_by_key(key: str):
    """The newest version of a definition."""
    found = queries.definitions(database.session(), key)
    if not found:
        raise NotFound(f"no process definition with key '{key}'")
    return jsonify(definition_json(found[0]))


@blueprint.post("/process-definition/key/<key>/start")
def start(key: str):
    """Start an instance of the newest version of ``key`` with variables and a business key."""
    return _start(key, from_form=False)


@blueprint.post("/process-definition/key/<key>/submit-form")
def submit_form(key: str):
    """Start an instance from its start form: the variables are checked against the form (400 with each
    field at fault)."""
    return _start(key, from_form=True)


def _start(key: str, from_form: bool):
    data = body()
    business_key = str_field(data, "businessKey")
    session = database.session()
    loaded = instances.start(session, actor(), key, variables.decode(data.get("variables")), business_key,
                             from_form=from_form)
    database.commit()
    out = instance_json(queries.instance_dict(loaded.row))
    if data.get("withVariablesInReturn"):
        out["variables"] = variables.encode(json.loads(loaded.row.variables))
    return jsonify(out)


def _visible(instance_id: str) -> str:
    """The instance's id if the caller may see it (an officer of an agency: only its dossiers), else 404."""
    if not queries.in_agency(database.session(), instance_id, agency_scope()):
        raise NotFound(f"no process instance {instance_id}")
    return instance_id


@blueprint.get("/process-instance")
def instance_list():
    """Instances, filtered by businessKey, processDefinitionKey and status (motcua's extra filter)."""
    limit, offset = paging()
    rows = queries.instances(database.session(), request.args.get("processDefinitionKey"),
                             request.args.get("status"), request.args.get("businessKey"), limit, offset,
                             agency_scope())
    return jsonify([instance_json(r) for r in rows])


@blueprint.get("/process-instance/<instance_id>")
def instance_get(instance_id: str):
    """One instance."""
    return jsonify(instance_json(queries.instance(database.session(), _visible(instance_id))))


@blueprint.get("/process-instance/<instance_id>/variables")
def instance_variables(instance_id: str):
    """An instance's variables, typed."""
    return jsonify(variables.encode(queries.instance(database.session(), _visible(instance_id),
                                                     with_variables=True)["variables"]))


@blueprint.delete("/process-instance/<instance_id>")
def instance_delete(instance_id: str):
    """Terminate an instance (Camunda's delete); the row and its history stay for the record."""
    instances.terminate(database.session(), instance_id, require_operator(),
                        request.args.get("deleteReason") or "terminated over REST")
    database.commit()
    return Response(status=204)
