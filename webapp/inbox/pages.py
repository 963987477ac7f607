"""The inbox's pages: sign in and out, the task list, a task (claim, give back, complete with its form); when
another officer got there first, a clear message with the task's current state."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, g, redirect, render_template, request, session, url_for

from engine import accounts, catalogue, inbox, queries, rate_limits, user_tasks
from engine.dossiers import STATUSES
from engine.errors import Conflict, Forbidden, FormValidationFailed, NotFound
from engine.forms import errors_vi
from webapp.database import session as db_session
from webapp.inbox import blueprint
from webapp.portal import eform, uploads
from webapp.portal.sessions import sign_in_required

SIGN_INS = 10
SIGN_IN_WINDOW = dt.timedelta(minutes=10)


def officer() -> accounts.Principal | None:
    """The signed-in officer, as their account is now (a disabled account is signed out)."""
    name = (session.get("officer") or {}).get("name")
    principal = accounts.by_name(db_session(), name) if name else None
    if principal is None or principal.is_service:
        session.pop("officer", None)
        return None
    return principal


def officer_required(view):
    """A view for signed-in officers only (``g.officer``); anyone else is sent to sign in and brought back."""
    return sign_in_required(officer, "inbox.sign_in", "officer")(view)


@blueprint.route("/dang-nhap", methods=["GET", "POST"])
def sign_in():
    """Officers sign in with their account (service accounts cannot)."""
    errors = {}
    if request.method == "POST":
        db = db_session()
        if not rate_limits.allow(db, f"officer-login:{request.remote_addr}", SIGN_INS, SIGN_IN_WINDOW,
                                 dt.datetime.now(dt.timezone.utc)):
            db.commit()
            abort(429)
        principal = accounts.by_password(db, request.form.get("ten", "").strip(), request.form.get("mat_khau", ""))
        db.commit()  # the attempt counts, and an upgraded password hash is kept
        if principal is None or principal.is_service:
            errors["ten"] = "Tên đăng nhập hoặc mật khẩu không đúng"
        else:
            session["officer"] = {"name": principal.name}
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/can-bo") else url_for("inbox.task_list"))
    return render_template("inbox/sign_in.html", errors=errors, name=request.form.get("ten", "")), \
        401 if errors else 200


@blueprint.post("/dang-xuat")
def sign_out():
    """End the officer's session."""
    session.pop("officer", None)
    return redirect(url_for("inbox.sign_in"))


@blueprint.get("/")
@officer_required
def task_list():
    """The tasks of the officer's groups in their agency, soonest due first, with filters."""
    principal = g.officer
    filters = {k: request.args.get(k) or None for k in ("thu_tuc", "han", "nguoi_xu_ly")}
    page = max(request.args.get("trang", 1, type=int) or 1, 1)
    db = db_session()
    found = inbox.tasks(db, principal, process_key=filters["thu_tuc"], due=filters["han"],
                        assignee=filters["nguoi_xu_ly"], page=page)
    procedures = [(p.process_key, p.name) for p in catalogue.procedures(db)]
    return render_template("inbox/list.html", officer=principal, found=found, filters=filters,
                           procedures=procedures)


def _task(principal, task_id: str):
    try:
        return inbox.task_for(db_session(), principal, task_id)
    except NotFound:
        abort(404)


def _page(principal, row, errors=None, values=None, status=200):
    db = db_session()
    view = inbox.dossier_view(db, row.instance_id)
    schema, _ = queries.task_form(db, row.id)
    form_fields = [f for p in eform.pages(schema or {"properties": {}}) for f in p.fields]
    answers = [(f, view["variables"].get(f.name)) for p in eform.pages(view["startForm"] or {"properties": {}})
               for f in p.fields]
    return render_template("inbox/task.html", officer=principal, task=row, view=view, fields=form_fields,
                           answers=answers, shown=eform.shown, errors=errors or {}, values=values or {},
                           statuses=STATUSES, date_parts=eform.date_parts), status


@blueprint.get("/viec/<task_id>")
@officer_required
def task_page(task_id: str):
    """A task: the dossier as the citizen entered it, its story, and the task's form."""
    principal = g.officer
    return _page(principal, _task(principal, task_id))


def _conflict(message: str):
    return render_template("inbox/conflict.html", message=message), 409


def _act(task_id: str, action, then: str):
    """Claim or give back a task; a colleague's move in between is a clear conflict."""
    row = _task(g.officer, task_id)
    try:
        action(db_session(), row.id, g.officer.actor())
        db_session().commit()
    except (Conflict, Forbidden) as err:
        db_session().rollback()
        return _conflict(err.message)
    return redirect(then)


@blueprint.post("/viec/<task_id>/nhan")
@officer_required
def claim(task_id: str):
    """Take the task (nobody else in the group works on it meanwhile)."""
    return _act(task_id, user_tasks.claim, url_for("inbox.task_page", task_id=task_id))


@blueprint.post("/viec/<task_id>/tra-lai")
@officer_required
def unclaim(task_id: str):
    """Give the task back to the group."""
    return _act(task_id, user_tasks.unclaim, url_for("inbox.task_list"))


@blueprint.post("/viec/<task_id>")
@officer_required
def complete(task_id: str):
    """Complete the task with its form; a task someone else completed meanwhile is a clear conflict."""
    principal = g.officer
    db = db_session()
    try:
        row = inbox.task_for(db, principal, task_id)
    except NotFound:
        return _conflict("Việc này không còn trong hộp việc: có thể một cán bộ khác đã xử lý xong.")
    schema, _ = queries.task_form(db, row.id)
    fields = [f for p in eform.pages(schema or {"properties": {}}) for f in p.fields]
    values = {k: v for k, v in eform.read(fields, request.form).items() if v not in (None, "", [])}
    for f in fields:
        if f.widget == "file" and request.files.get(f.name) and request.files[f.name].filename:
            try:
                values[f.name] = uploads.store(request.files[f.name], current_app.extensions["motcua"].settings,
                                               f.title)
            except uploads.UploadRefused as refused:
                return _page(principal, row, {f.name: str(refused)}, values, 400)
    errors = errors_vi(schema, values) if schema else {}
    if errors:
        return _page(principal, row, errors, values, 400)
    try:
        user_tasks.complete(db, row.id, principal.actor(), values)
        db.commit()
    except FormValidationFailed as failed:
        db.rollback()
        return _page(principal, row, {e.field: e.message for e in failed.errors}, values, 400)
    except (Conflict, Forbidden) as err:
        db.rollback()
        return _conflict(err.message)
    return redirect(url_for("inbox.task_list", xong=row.name))
