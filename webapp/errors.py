"""Engine errors to HTTP responses, in one place.

Under ``/engine-rest`` the body is Camunda's ``{"type": …, "message": …}`` (plus motcua's ``code``), so
Camunda clients report it as they would Camunda's own.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from engine import errors

log = logging.getLogger(__name__)

CAMUNDA_TYPES = {
    errors.NotFound: "InvalidRequestException",
    errors.Forbidden: "AuthorizationException",
    errors.StaleVersion: "OptimisticLockingException",
    errors.BadInput: "InvalidRequestException",
    errors.Conflict: "ProcessEngineException",
}


def camunda_type(err: errors.MotcuaError) -> str:
    """Camunda's exception type name for an engine error."""
    for cls, name in CAMUNDA_TYPES.items():
        if isinstance(err, cls):
            return name
    return "ProcessEngineException"


def error_body(err: errors.MotcuaError) -> dict:
    """The JSON body for an engine error."""
    body = {"type": camunda_type(err), "message": err.message, "code": err.code}
    problems = getattr(err, "problems", None)
    if problems:
        body["problems"] = [{"file": p.file, "message": p.message, "elementId": p.element_id, "line": p.line,
                             "severity": p.severity} for p in problems]
    if isinstance(err, errors.FormValidationFailed):
        body["fields"] = [{"field": f.field, "message": f.message} for f in err.errors]
    return body


def init_app(app: Flask) -> None:
    """Register the handlers that turn errors into responses."""

    @app.errorhandler(errors.MotcuaError)
    def engine_error(err: errors.MotcuaError):
        return jsonify(error_body(err)), err.http_status

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        if request.path.startswith("/engine-rest"):
            return jsonify({"type": "RestException", "message": err.description, "code": err.name}), err.code
        return err

    @app.errorhandler(Exception)
    def unexpected(err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return jsonify({"type": "ProcessEngineException", "message": "internal error; see the server log",
                        "code": "internal"}), 500
