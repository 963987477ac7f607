"""A task page: the dossier as the citizen entered it, its story, and the task's own form; claim, give back,
complete. When another officer got there first, a clear message with the task's current state."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for

from engine import inbox, queries, user_tasks
from engine.dossiers import STATUSES
from engine.errors import Conflict, Forbidden, FormValidationFailed, NotFound
from engine.forms import errors_vi
from webapp.database import session as db_session
from webapp.inbox import blueprint
from webapp.inbox.auth import officer_required
from webapp.portal import eform, uploads


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
