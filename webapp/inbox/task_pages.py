"""A task page: the dossier as the citizen entered it, its documents, payments, registry profile, story and
tracking card, comments between officers, and the task's own form; claim, give back, complete. When another
officer got there first, a clear message with the task's current state."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine import inbox, queries, task_view, user_tasks
from engine.dossiers import STATUSES
from engine.errors import (Conflict, Forbidden, FormValidationFailed, InstanceNotActive, NotFound,
                           SupplementLimitReached)
from engine.forms import errors_vi
from webapp.database import session as db_session
from webapp.inbox import blueprint, conflicts
from webapp.inbox.auth import officer_required
from webapp.portal import eform, uploads


def task_or_404(principal, task_id: str):
    """A task the officer may see, or 404 (another agency's or group's task looks like no task at all)."""
    try:
        return inbox.task_for(db_session(), principal, task_id)
    except NotFound:
        abort(404)


def render_task(principal, row, errors=None, values=None, status=200):
    """The task page, with errors and the officer's answers kept when something was refused."""
    db = db_session()
    view = task_view.view(db, row, principal.name)
    schema, _ = queries.task_form(db, row.id)
    form_fields = [f for p in eform.pages(schema or {"properties": {}}) for f in p.fields]
    answers = [(f, view["variables"].get(f.name)) for p in eform.pages(view["startForm"] or {"properties": {}})
               for f in p.fields if f.widget != "file"]
    settings = current_app.extensions["motcua"].settings
    return render_template("inbox/task.html", officer=principal, task=row, view=view, fields=form_fields,
                           answers=answers, shown=eform.shown, errors=errors or {}, values=values or {},
                           statuses=STATUSES, date_parts=eform.date_parts,
                           is_leader=settings.leader_group in principal.groups), status


@blueprint.get("/viec/<task_id>")
@officer_required
def task_page(task_id: str):
    """A task: the dossier as the citizen entered it, its story, and the task's form (with the confirmation of what
    the officer just did, flashed by the action: never text taken from the address)."""
    principal = g.officer
    return render_task(principal, task_or_404(principal, task_id))


def conflict_page(message: str, task_id: str | None = None):
    """The 409 page: what happened, the dossier's state now, and the way back to the inbox."""
    state = task_view.current_state(db_session(), task_id, g.officer.agency) if task_id else None
    return render_template("inbox/conflict.html", message=message, state=state, statuses=STATUSES,
                           officer=g.officer), 409


def _act(task_id: str, action, then: str):
    """Claim or give back a task; a colleague's move in between is a clear conflict."""
    row = task_or_404(g.officer, task_id)
    try:
        action(db_session(), row.id, g.officer.actor())
        db_session().commit()
    except (Conflict, Forbidden) as err:
        db_session().rollback()
        return conflict_page(conflicts.sentence(err), task_id)
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
        return conflict_page("Việc này không còn trong hộp việc: có thể một cán bộ khác đã xử lý xong.", task_id)
    schema, _ = queries.task_form(db, row.id)
    fields = [f for p in eform.pages(schema or {"properties": {}}) for f in p.fields]
    values = {k: v for k, v in eform.read(fields, request.form).items() if v not in (None, "", [])}
    for f in fields:
        if f.widget == "file" and request.files.get(f.name) and request.files[f.name].filename:
            try:
                values[f.name] = uploads.store(request.files[f.name], current_app.extensions["motcua"].settings,
                                               f.title, f.accept)
            except uploads.UploadRefused as refused:
                return render_task(principal, row, {f.name: str(refused)}, values, 400)
    errors = errors_vi(schema, values) if schema else {}
    if errors:
        return render_task(principal, row, errors, values, 400)
    try:
        user_tasks.complete(db, row.id, principal.actor(), values)
        db.commit()
    except FormValidationFailed as failed:
        db.rollback()
        return render_task(principal, row, {e.field: e.message for e in failed.errors}, values, 400)
    except SupplementLimitReached as refused:
        db.rollback()
        field = (schema or {}).get("x-motcua-supplement-request", {}).get("field", "quyet_dinh")
        return render_task(principal, row, {field: refused.message}, values, 409)
    except InstanceNotActive as err:
        db.rollback()
        if err.status == "suspended":  # the task is still there: keep what the officer typed on its page
            return render_task(principal, row, {"hoan-thanh": conflicts.sentence(err)}, values, 409)
        return conflict_page(conflicts.sentence(err), task_id)
    except (Conflict, Forbidden) as err:
        db.rollback()
        return conflict_page(conflicts.sentence(err), task_id)
    flash(f"Đã hoàn thành: {row.name}")
    return redirect(url_for("inbox.task_list"))
