"""Process definitions in the console: every key with its versions and running instances, deploying new files by
upload with a reason for the audit log (the deploy checks' findings in plain words, with file, element and line),
and a version's BPMN file."""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Response, abort, current_app, flash, g, redirect, request, url_for

from engine import console_queries, deployment, queries
from engine.errors import DeploymentRefused, NotFound
from webapp import reasons
from webapp.console import ANALYST, blueprint, page, role_required
from webapp.database import session as db_session
from webapp.handlers import known_topics

ACCEPTED = (".bpmn", ".dmn", ".json", ".toml")


def _grouped(definitions: list[dict]) -> list[dict]:
    """Definitions by key, newest version first, with the key's total of running instances."""
    keys: dict[str, dict] = {}
    for d in definitions:
        entry = keys.setdefault(d["key"], {"key": d["key"], "name": d["name"], "versions": [], "running": 0})
        entry["versions"].append(d)
        entry["running"] += d.get("runningInstances", 0)
    return list(keys.values())


@blueprint.get("/quy-trinh")
@role_required(ANALYST)
def definitions():
    """Every procedure with its versions, and the upload form."""
    return page("console/definitions.html", keys=_grouped(queries.definitions(db_session())), problems=[],
                errors={}, values={})


@blueprint.post("/quy-trinh")
@role_required(ANALYST)
def deploy():
    """Deploy the uploaded files with the reason for the new version; refused files come back with every problem
    found (the reason typed stays in its field; files must be chosen again, as browsers never refill them)."""
    uploads = [f for f in request.files.getlist("tep") if f and f.filename]
    errors: dict[str, str] = {}
    if not uploads:
        errors["tep"] = "Chọn ít nhất một tệp BPMN (có thể kèm DMN, biểu mẫu JSON, procedure.toml)"
    elif any(not f.filename.lower().endswith(ACCEPTED) for f in uploads):
        errors["tep"] = "Chỉ nhận tệp .bpmn, .dmn, .json (biểu mẫu) và .toml (thông tin thủ tục)"
    reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "triển khai phiên bản mới")
    values = {"ly_do": request.form.get("ly_do", "")}
    if errors:
        return page("console/definitions.html", 400, keys=_grouped(queries.definitions(db_session())), problems=[],
                    errors=errors, values=values)
    files, forms = [], {}
    for upload in uploads:
        name, data = Path(upload.filename).name, upload.read()
        (forms.__setitem__(name, data) if name.endswith(".json") else files.append((name, data)))
    settings = current_app.extensions["motcua"].settings
    db = db_session()
    try:
        with tempfile.TemporaryDirectory(prefix="motcua-forms-") as folder:
            for name, data in forms.items():
                (Path(folder) / name).write_bytes(data)
            result = deployment.deploy(db, files, [Path(folder), settings.forms_dir], deployed_by=g.officer.name,
                                       source="console", known_topics=known_topics(), reason=reason)
    except DeploymentRefused as refused:
        db.rollback()
        return page("console/definitions.html", 400, keys=_grouped(queries.definitions(db)),
                    problems=refused.problems, values=values,
                    errors={"tep": "Không triển khai được: sửa các lỗi dưới đây rồi tải lên lại"})
    db.commit()
    new = [f"{d.key} phiên bản {d.version}" for d in result.definitions if d.created]
    same = [d.key for d in result.definitions if not d.created]
    if new:
        flash("Đã triển khai " + ", ".join(new) + ".")
    if same:
        flash("Không đổi (nội dung giống phiên bản mới nhất): " + ", ".join(same) + ".")
    for warning in result.warnings:
        flash(f"Cảnh báo — {warning}")
    return redirect(url_for("console.definitions"))


@blueprint.get("/quy-trinh/<definition_id>/tep")
@role_required(ANALYST)
def definition_file(definition_id: str):
    """The version's BPMN file, byte for byte as deployed."""
    try:
        name, content = console_queries.definition_file(db_session(), definition_id)
    except NotFound:
        abort(404)
    safe = definition_id.replace(":", "-v") + "-" + Path(name).name
    return Response(content, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})
