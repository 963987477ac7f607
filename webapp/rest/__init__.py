"""``/engine-rest``: the Camunda 7-compatible REST API (the subset motcua implements; see openapi.json).

Every call needs a credential, HTTP Basic or a service account's bearer token, except the OpenAPI
document. Engine errors become Camunda's error body in :mod:`webapp.errors`.
"""
from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("engine_rest", __name__, url_prefix="/engine-rest")

from webapp.rest import (auth, deployment, external_task, incident, message, openapi, process,  # noqa: E402,F401
                         task)
