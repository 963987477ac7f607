"""``/engine-rest/incident``: what operators must fix."""
from __future__ import annotations

from flask import jsonify, request

from engine import queries
from webapp import database
from webapp.rest import blueprint
from webapp.rest.auth import require_operator
from webapp.rest.common import bool_arg, paging


@blueprint.get("/incident")
def incident_listing():
    """Open incidents (all with ``open=false``), by processInstanceId and incidentType."""
    require_operator()
    limit, offset = paging()
    open_only = bool_arg("open")
    return jsonify(queries.incidents(database.session(), request.args.get("processInstanceId"),
                                     request.args.get("incidentType"), open_only is not False, limit, offset))


@blueprint.get("/incident/<incident_id>")
def incident_get(incident_id: str):
    """One incident, with its details."""
    require_operator()
    return jsonify(queries.incident(database.session(), incident_id))
