"""The OpenAPI 3.1 document of what ``/engine-rest`` implements, served at ``/engine-rest/openapi.json``.

Each operation is declared once in :data:`OPERATIONS`; a test checks that the declared operations and
the app's routes are the same set, so the document cannot drift from the code.
"""
from __future__ import annotations

from flask import jsonify

from webapp.rest import blueprint

def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(name: str) -> dict:
    return {"type": "array", "items": _ref(name)}


_obj = {"type": "object"}
SCHEMAS = {
    "TypedValue": {"type": "object", "required": ["value"], "properties": {
        "value": {}, "type": {"enum": ["String", "Integer", "Long", "Short", "Double", "Boolean", "Json", "Object",
                                        "Date", "Null"]},
        "valueInfo": _obj}},
    "Variables": {"type": "object", "additionalProperties": _ref("TypedValue")},
    "Error": {"type": "object", "properties": {"type": {"type": "string"}, "message": {"type": "string"},
                                               "code": {"type": "string"}}},
    "FetchAndLock": {"type": "object", "required": ["workerId", "maxTasks", "topics"], "properties": {
        "workerId": {"type": "string"}, "maxTasks": {"type": "integer", "minimum": 0},
        "usePriority": {"type": "boolean"}, "asyncResponseTimeout": {"type": "integer", "maximum": 1800000},
        "topics": {"type": "array", "items": {"type": "object", "required": ["topicName", "lockDuration"],
                                              "properties": {"topicName": {"type": "string"},
                                                             "lockDuration": {"type": "integer"},
                                                             "variables": {"type": "array",
                                                                           "items": {"type": "string"}}}}}}},
    "LockedExternalTask": {"type": "object", "properties": {
        k: {} for k in ("id", "topicName", "workerId", "lockExpirationTime", "activityId", "processInstanceId",
                        "processDefinitionId", "processDefinitionKey", "businessKey", "priority", "retries",
                        "errorMessage")} | {"variables": _ref("Variables")}},
    "ExternalTask": {"type": "object", "properties": {k: {} for k in (
        "id", "topicName", "workerId", "lockExpirationTime", "activityId", "processInstanceId", "processDefinitionId",
        "processDefinitionKey", "businessKey", "priority", "retries", "errorMessage", "suspended", "createTime")}},
    "CompleteExternalTask": {"type": "object", "required": ["workerId"], "properties": {
        "workerId": {"type": "string"}, "variables": _ref("Variables"), "localVariables": _ref("Variables")}},
    "Failure": {"type": "object", "required": ["workerId"], "properties": {
        "workerId": {"type": "string"}, "errorMessage": {"type": "string", "maxLength": 666},
        "errorDetails": {"type": "string"}, "retries": {"type": "integer", "minimum": 0},
        "retryTimeout": {"type": "integer", "minimum": 0}}},
    "BpmnError": {"type": "object", "required": ["workerId", "errorCode"], "properties": {
        "workerId": {"type": "string"}, "errorCode": {"type": "string"}, "errorMessage": {"type": "string"},
        "variables": _ref("Variables")}},
    "ExtendLock": {"type": "object", "required": ["workerId", "newDuration"], "properties": {
        "workerId": {"type": "string"}, "newDuration": {"type": "integer", "minimum": 1}}},
    "Retries": {"type": "object", "required": ["retries"], "properties": {"retries": {"type": "integer",
                                                                                       "minimum": 0}}},
    "StartInstance": {"type": "object", "properties": {"variables": _ref("Variables"),
                                                       "businessKey": {"type": "string"},
                                                       "withVariablesInReturn": {"type": "boolean"}}},
    "ProcessInstance": {"type": "object", "properties": {k: {} for k in (
        "id", "definitionId", "businessKey", "ended", "suspended", "status", "processKey", "version",
        "openIncidents", "startedAt", "endedAt")} | {"variables": _ref("Variables")}},
    "ProcessDefinition": {"type": "object", "properties": {k: {} for k in (
        "id", "key", "name", "version", "deploymentId", "resource", "suspended")}},
    "Task": {"type": "object", "properties": {k: {} for k in (
        "id", "name", "assignee", "created", "due", "priority", "processInstanceId", "processDefinitionId",
        "taskDefinitionKey", "formKey", "suspended", "businessKey", "candidateGroups", "candidateUsers",
        "overdue")}},
    "Claim": {"type": "object", "properties": {"userId": {"type": "string"}}},
    "CompleteTask": {"type": "object", "properties": {"variables": _ref("Variables"),
                                                      "withVariablesInReturn": {"type": "boolean"}}},
    "CorrelateMessage": {"type": "object", "required": ["messageName"], "properties": {
        "messageName": {"type": "string"}, "businessKey": {"type": "string"},
        "processInstanceId": {"type": "string"}, "correlationKeys": _ref("Variables"),
        "processVariables": _ref("Variables"), "all": {"type": "boolean"}, "resultEnabled": {"type": "boolean"},
        "variablesInResultEnabled": {"type": "boolean"}}},
    "Deployment": {"type": "object", "properties": {"id": {}, "name": {}, "source": {},
                                                    "deployedProcessDefinitions": _obj, "warnings": {"type": "array"}}},
    "Incident": {"type": "object", "properties": {k: {} for k in (
        "id", "processInstanceId", "activityId", "taskId", "incidentType", "incidentMessage", "createdAt",
        "resolvedAt", "details")}},
}

# (method, path): (summary, request schema or None, success status, response schema or None)
OPERATIONS: dict[tuple[str, str], tuple[str, str | None, int, dict | None]] = {
    ("post", "/external-task/fetchAndLock"): ("Fetch and lock external tasks (long polling with "
                                              "asyncResponseTimeout)", "FetchAndLock", 200, _array("LockedExternalTask")),
    ("post", "/external-task/{id}/complete"): ("Complete a locked task", "CompleteExternalTask", 204, None),
    ("post", "/external-task/{id}/failure"): ("Report a failure; retries 0 opens an incident", "Failure", 204, None),
    ("post", "/external-task/{id}/bpmnError"): ("Throw a BPMN error", "BpmnError", 204, None),
    ("post", "/external-task/{id}/extendLock"): ("Extend the caller's lock", "ExtendLock", 204, None),
    ("post", "/external-task/{id}/unlock"): ("Release the lock", None, 204, None),
    ("put", "/external-task/{id}/retries"): ("Set retries (> 0 resolves the incident)", "Retries", 204, None),
    ("get", "/external-task"): ("List external tasks", None, 200, _array("ExternalTask")),
    ("get", "/external-task/topic-names"): ("Topics that have tasks", None, 200,
                                            {"type": "array", "items": {"type": "string"}}),
    ("get", "/external-task/{id}"): ("Get an external task", None, 200, _ref("ExternalTask")),
    ("get", "/external-task/{id}/errorDetails"): ("The worker's error details (text/plain)", None, 200, None),
    ("get", "/process-definition"): ("List definitions", None, 200, _array("ProcessDefinition")),
    ("get", "/process-definition/key/{key}"): ("Newest version of a definition", None, 200,
                                               _ref("ProcessDefinition")),
    ("post", "/process-definition/key/{key}/start"): ("Start an instance", "StartInstance", 200,
                                                      _ref("ProcessInstance")),
    ("post", "/process-definition/key/{key}/submit-form"): ("Start an instance from its start form (checked)",
                                                            "StartInstance", 200, _ref("ProcessInstance")),
    ("get", "/process-instance"): ("List instances (businessKey, processDefinitionKey, status)", None, 200,
                                   _array("ProcessInstance")),
    ("get", "/process-instance/{id}"): ("Get an instance", None, 200, _ref("ProcessInstance")),
    ("get", "/process-instance/{id}/variables"): ("An instance's variables", None, 200, _ref("Variables")),
    ("delete", "/process-instance/{id}"): ("Terminate an instance", None, 204, None),
    ("get", "/task"): ("List open user tasks (candidateGroup, assignee, processInstanceId, dueBefore, overdue)",
                       None, 200,
                       _array("Task")),
    ("get", "/task/{id}"): ("Get an open user task", None, 200, _ref("Task")),
    ("post", "/task/{id}/claim"): ("Claim a task", "Claim", 204, None),
    ("post", "/task/{id}/unclaim"): ("Unclaim a task", None, 204, None),
    ("post", "/task/{id}/complete"): ("Complete a task (variables checked against its form)", "CompleteTask", 204,
                                      None),
    ("get", "/task/{id}/form-variables"): ("The variables of the task's form", None, 200, _ref("Variables")),
    ("get", "/task/{id}/variables"): ("The variables the task sees: the instance's and its own", None, 200,
                                      _ref("Variables")),
    ("post", "/message"): ("Correlate a message", "CorrelateMessage", 204, None),
    ("post", "/deployment/create"): ("Deploy BPMN, DMN and forms (multipart/form-data)", None, 200,
                                     _ref("Deployment")),
    ("get", "/incident"): ("List incidents", None, 200, _array("Incident")),
    ("get", "/incident/{id}"): ("Get an incident", None, 200, _ref("Incident")),
    ("get", "/openapi.json"): ("This document (no credential needed)", None, 200, None),
}


def document() -> dict:
    """The OpenAPI document."""
    paths: dict[str, dict] = {}
    for (method, path), (summary, request_schema, status, response) in OPERATIONS.items():
        op: dict = {"summary": summary, "responses": {
            str(status): {"description": "success", **({"content": {"application/json": {"schema": response}}}
                                                       if response else {})},
            "400": {"description": "bad input", "content": {"application/json": {"schema": _ref("Error")}}},
            "401": {"description": "no valid credential"},
            "403": {"description": "not allowed"}, "404": {"description": "not found"},
            "409": {"description": "conflict (task gone, lock lost, concurrent change)"}}}
        params = [{"name": n[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in path.split("/") if n.startswith("{")]
        if params:
            op["parameters"] = params
        if request_schema:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(request_schema)}}}
        if path == "/deployment/create":
            op["requestBody"] = {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}
        if path == "/openapi.json":
            op["security"] = []
        paths.setdefault(path, {})[method] = op
    return {"openapi": "3.1.0",
            "info": {"title": "motcua engine-rest", "version": "1",
                     "description": "The Camunda 7-compatible subset of the REST API that motcua implements."},
            "servers": [{"url": "/engine-rest"}], "paths": paths,
            "components": {"schemas": SCHEMAS, "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"}, "bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"basic": []}, {"bearer": []}]}


@blueprint.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(document())
