"""Instances in the console: search by dossier code, procedure, version, status, agency, dates and a variable;
one instance with its variables, history, incidents and tasks; retry an incident, suspend, resume, terminate
(each with a reason, kept in the history and the audit log; a missing one is told on the instance page)."""
from __future__ import annotations

import datetime as dt
import json

from flask import abort, flash, redirect, request, url_for

from engine import catalogue, console_queries, incidents, indicator_periods, instances, queries
from engine.dossiers import STATUSES
from engine.errors import BadInput, Conflict, InvalidVariables, NotFound
from webapp import reasons
from webapp.console import ANALYST, blueprint, console_actor, page, role_required
from webapp.console.diagram_pages import instance_diagram
from webapp.database import session as db_session

VIETNAM = dt.timezone(dt.timedelta(hours=7))
FILTERS = ("ma", "quy_trinh", "phien_ban", "trang_thai", "co_quan", "tu_ngay", "den_ngay", "bien", "gia_tri")


def _day(errors: dict, field: str, value: str | None, next_day: bool = False) -> dt.datetime | None:
    """A dd/mm/yyyy or yyyy-mm-dd day as the start (or the end) of that day in Vietnam time; a year the Decision
    766 dashboard would refuse (outside 2000-2100) is refused here too, with the same message."""
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = dt.datetime.strptime(value.strip(), pattern).replace(tzinfo=VIETNAM)
        except ValueError:
            continue
        try:
            indicator_periods.check_year(day.year)
        except BadInput as err:
            errors[field] = err.message
            return None
        return day + dt.timedelta(days=1) if next_day else day
    errors[field] = "Ngày theo dạng ngày/tháng/năm, ví dụ 27/11/2026"
    return None


@blueprint.get("/ho-so")
@role_required(ANALYST)
def instance_search():
    """Find instances; every filter is optional."""
    args = {k: (request.args.get(k) or "").strip() for k in FILTERS}
    errors: dict[str, str] = {}
    version = None
    if args["phien_ban"]:
        if not args["phien_ban"].isdigit():
            errors["phien_ban"] = "Phiên bản là một số, ví dụ 2"
        else:
            version = int(args["phien_ban"])
    started_from = _day(errors, "tu_ngay", args["tu_ngay"])
    started_to = _day(errors, "den_ngay", args["den_ngay"], next_day=True)
    found = {"items": [], "page": 1, "hasMore": False}
    db = db_session()
    if not errors:
        try:
            found = console_queries.search(
                db, code=args["ma"] or None, key=args["quy_trinh"] or None, version=version,
                status=args["trang_thai"] or None, agency=args["co_quan"] or None, started_from=started_from,
                started_to=started_to, variable=(args["bien"], args["gia_tri"]) if args["bien"] else None,
                page=request.args.get("trang", 1, type=int) or 1)
        except BadInput as err:
            errors["bien" if "biến" in err.message else "trang_thai"] = err.message
    keys = sorted({d["key"] for d in queries.definitions(db)})
    return page("console/instances.html", 400 if errors else 200, found=found, args=args, errors=errors,
                keys=keys, statuses=console_queries.STATES, dossier_statuses=STATUSES,
                procedures={p.process_key: p.name for p in catalogue.procedures(db)})


@blueprint.get("/ho-so/<instance_id>")
@role_required(ANALYST)
def instance_page(instance_id: str):
    """One instance: where it is, its variables, incidents, tasks and history."""
    return _instance_view(instance_id)


def _instance_view(instance_id: str, errors: dict | None = None, values: dict | None = None, status: int = 400):
    """The instance page; with ``errors`` (``status``, 400 by default) the forms show them and keep what was typed
    (``values``, by field id)."""
    try:
        detail = queries.instance_detail(db_session(), instance_id)
    except NotFound:
        abort(404)
    every_incident = queries.incidents(db_session(), instance_id=instance_id, open_only=False)
    svg = instance_diagram(instance_id, detail["definitionId"])
    return page("console/instance.html", status if errors else 200, d=detail, incidents=every_incident,
                statuses=STATUSES, errors=errors or {}, action_values=values or {}, svg=svg,
                variables_json=json.dumps(detail.get("variables") or {}, ensure_ascii=False, indent=2, default=str))


def _acted(instance_id: str, message: str):
    db_session().commit()
    flash(message)
    return redirect(url_for("console.instance_page", instance_id=instance_id))


def _refused(instance_id: str, message: str):
    db_session().rollback()
    flash(f"Không thực hiện được: {message}")
    return redirect(url_for("console.instance_page", instance_id=instance_id))


# action in the URL: the engine command, the reason field's id on the page, the action in words, the message after
ACTIONS = {
    "tam-dung": (instances.suspend, "ly_do_tam_dung", "tạm dừng", "Đã tạm dừng."),
    "tiep-tuc": (instances.resume, "ly_do_tiep_tuc", "cho chạy tiếp", "Đã cho chạy tiếp."),
    "ket-thuc": (instances.terminate, "ly_do_ket_thuc", "kết thúc", "Đã kết thúc hồ sơ."),
}


@blueprint.post("/ho-so/<instance_id>/<action>")
@role_required(ANALYST)
def instance_action(instance_id: str, action: str):
    """Suspend, resume or terminate the instance, each with a reason (posted as ``ly_do``)."""
    if action not in ACTIONS:
        abort(404)
    command, field, what, done = ACTIONS[action]
    errors: dict[str, str] = {}
    reason = reasons.check(errors, field, request.form.get("ly_do"), what)
    if errors:
        return _instance_view(instance_id, errors, {field: request.form.get("ly_do", "")})
    try:
        command(db_session(), instance_id, console_actor(), reason)
    except NotFound:
        abort(404)
    except (BadInput, Conflict) as err:
        return _refused(instance_id, err.message)
    return _acted(instance_id, done)


@blueprint.post("/su-co/<incident_id>/thu-lai")
@role_required(ANALYST)
def incident_retry(incident_id: str):
    """Retry an incident with a reason, optionally with corrected variables (a JSON object)."""
    db = db_session()
    try:
        incident = queries.incident(db, incident_id)
    except NotFound:
        abort(404)
    instance_id = incident["processInstanceId"]
    reason_field, variables_field = f"ly_do_thu_lai_{incident_id}", f"bien_sua_{incident_id}"
    text = (request.form.get("bien_sua") or "").strip()
    errors: dict[str, str] = {}
    try:
        fixed = json.loads(text) if text else None
        if fixed is not None and not isinstance(fixed, dict):
            raise ValueError
    except ValueError:
        errors[variables_field] = 'Biến sửa lại phải là một đối tượng JSON, ví dụ {"so_chia": 4}'
    reason = reasons.check(errors, reason_field, request.form.get("ly_do"), "thử lại sự cố")
    typed = {reason_field: request.form.get("ly_do", ""), variables_field: request.form.get("bien_sua", "")}
    if errors:
        return _instance_view(instance_id, errors, typed)
    try:
        incidents.retry(db, incident_id, console_actor(), fixed, reason)
    except (BadInput, Conflict) as err:  # refused: say why beside the form, and keep what was typed in it
        db.rollback()
        field = variables_field if isinstance(err, InvalidVariables) else reason_field
        return _instance_view(instance_id, {field: f"Không thực hiện được: {err.message}"}, typed, err.http_status)
    return _acted(instance_id, "Đã thử lại sự cố.")
