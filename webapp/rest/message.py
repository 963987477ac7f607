"""``/engine-rest/message``: correlate a message into the instance (or instances) waiting for it."""
from __future__ import annotations

from flask import Response, jsonify

from engine import messages, queries
from engine.errors import BadInput
from webapp import database
from engine import typed_variables as variables
from webapp.rest import blueprint
from webapp.rest.auth import require_operator
from webapp.rest.common import body, str_field


def _keys(data) -> dict:
    keys = data.get("correlationKeys")
    if keys is None:
        return {}
    if not isinstance(keys, dict):
        raise BadInput("correlationKeys must be an object of name: {value, type}")
    return variables.decode(keys)


@blueprint.post("/message")
def correlate():
    """Camunda's message correlation: by messageName, businessKey, processInstanceId and correlationKeys;
    processVariables are set on the instance. 204, or the results when resultEnabled."""
    actor = require_operator()
    data = body()
    session = database.session()
    ids = messages.correlate(session, str_field(data, "messageName", ""), actor,
                             business_key=str_field(data, "businessKey"),
                             instance_id=str_field(data, "processInstanceId"), correlation_keys=_keys(data),
                             variables=variables.decode(data.get("processVariables")),
                             all_instances=bool(data.get("all")))
    database.commit()
    if not data.get("resultEnabled"):
        return Response(status=204)
    results = []
    for instance_id in ids:
        result = {"resultType": "Execution", "execution": {"id": instance_id, "processInstanceId": instance_id,
                                                           "ended": False, "tenantId": None}, "processInstance": None}
        if data.get("variablesInResultEnabled"):
            result["variables"] = variables.encode(queries.instance(session, instance_id, True)["variables"])
        results.append(result)
    return jsonify(results)
