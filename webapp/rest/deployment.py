"""``/engine-rest/deployment``: deploy BPMN, DMN and forms sent as multipart form data."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import jsonify, request

from engine import deployment
from engine.errors import BadInput
from webapp import database
from webapp.rest import blueprint
from webapp.handlers import known_topics
from webapp.rest.auth import require_operator


@blueprint.post("/deployment/create")
def create():
    """Deploy the uploaded files (``*.bpmn``, ``*.dmn``; ``*.json`` parts are forms, named by their file name).
    Forms not uploaded come from the server's forms folder. Identical content deploys nothing new. motcua's own
    ``deployment-reason`` part is kept in the audit log."""
    actor = require_operator()
    uploads = [f for f in request.files.values() if f.filename]
    if not uploads:
        raise BadInput("no file uploaded: send the BPMN (and DMN, forms) as multipart form data")
    files, forms = [], {}
    for upload in uploads:
        name = Path(upload.filename).name
        data = upload.read()
        if name.endswith(".json"):
            forms[name] = data
        else:
            files.append((name, data))
    settings = database.state().settings
    with tempfile.TemporaryDirectory(prefix="motcua-forms-") as folder:
        for name, data in forms.items():
            (Path(folder) / name).write_bytes(data)
        result = deployment.deploy(database.session(), files, [Path(folder), settings.forms_dir],
                                   deployed_by=actor.user_id, name=request.form.get("deployment-name"),
                                   source=request.form.get("deployment-source") or "engine-rest",
                                   known_topics=known_topics(), reason=request.form.get("deployment-reason"))
    database.commit()
    return jsonify({
        "id": result.deployment_id, "name": request.form.get("deployment-name"), "source": "engine-rest",
        "deployedProcessDefinitions": {d.id: {"id": d.id, "key": d.key, "version": d.version, "name": d.name,
                                              "new": d.created} for d in result.definitions},
        "warnings": [{"file": w.file, "message": w.message, "elementId": w.element_id, "line": w.line}
                     for w in result.warnings]})
