"""What an officer does on a task page besides its form: hand the task to a colleague, write to colleagues, forward
the dossier to another agency, ask the leaders for a second supplement request and allow it (leaders), download the
dossier's documents."""
from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, flash, g, redirect, request, send_file, url_for

from engine import comments, dossier_actions, supplement_permission, task_view, user_tasks
from engine.errors import BadInput, Conflict, Forbidden, NotFound
from webapp.database import session as db_session
from webapp.inbox import blueprint, conflicts
from webapp.inbox.auth import officer_required
from webapp.inbox.task_pages import conflict_page, render_task, task_or_404
from webapp.portal import uploads


def _done(row, notice: str):
    db_session().commit()
    flash(notice)  # kept in the session for the next page: the address carries no text to show
    return redirect(url_for("inbox.task_page", task_id=row.id))


def _refused(row, field: str, err: BadInput):
    db_session().rollback()
    if isinstance(err, Forbidden):
        abort(403)
    return render_task(g.officer, row, {field: err.message}, dict(request.form), 400)


@blueprint.post("/viec/<task_id>/chuyen-nguoi")
@officer_required
def reassign(task_id: str):
    """Hand the task to a colleague of its group, with the reason on the tracking card."""
    row = task_or_404(g.officer, task_id)
    try:
        user_tasks.reassign(db_session(), row.id, g.officer.actor(), request.form.get("nguoi_nhan", ""),
                            request.form.get("ly_do_chuyen", ""))
    except (Conflict, Forbidden) as err:  # a colleague holds the task: say who, as for claim and complete
        db_session().rollback()
        return conflict_page(conflicts.sentence(err), task_id)
    except BadInput as err:
        return _refused(row, "ly_do_chuyen" if "lý do" in err.message else "nguoi_nhan", err)
    db_session().commit()
    flash(f"Đã chuyển việc cho đồng nghiệp: {row.name}")
    return redirect(url_for("inbox.task_list"))


@blueprint.post("/viec/<task_id>/trao-doi")
@officer_required
def comment(task_id: str):
    """Write a note to colleagues on the dossier."""
    row = task_or_404(g.officer, task_id)
    try:
        comments.add(db_session(), row.instance_id, g.officer.name, request.form.get("noi_dung", ""), row.id)
    except BadInput as err:
        return _refused(row, "noi_dung", err)
    return _done(row, "Đã gửi trao đổi")


@blueprint.post("/viec/<task_id>/lien-thong")
@officer_required
def forward(task_id: str):
    """Forward the dossier to another agency (liên thông)."""
    row = task_or_404(g.officer, task_id)
    try:
        dossier_actions.forward(db_session(), row.instance_id, request.form.get("co_quan", ""), g.officer.actor(),
                                request.form.get("ly_do_lien_thong", ""))
    except BadInput as err:
        return _refused(row, "ly_do_lien_thong" if "lý do" in err.message else "co_quan", err)
    db_session().commit()
    flash(f"Đã chuyển hồ sơ {row.business_key} sang cơ quan khác (liên thông).")
    return redirect(url_for("inbox.task_list"))


@blueprint.post("/viec/<task_id>/cho-phep-bo-sung")
@officer_required
def allow_supplement(task_id: str):
    """A leader allows one more supplement request on the dossier."""
    row = task_or_404(g.officer, task_id)
    settings = current_app.extensions["motcua"].settings
    try:
        dossier_actions.allow_another_supplement(db_session(), row.instance_id, g.officer.actor(),
                                                 request.form.get("ly_do_cho_phep", ""), settings.leader_group)
    except BadInput as err:
        return _refused(row, "ly_do_cho_phep", err)
    return _done(row, "Đã cho phép yêu cầu bổ sung thêm một lần")


@blueprint.post("/viec/<task_id>/de-nghi-bo-sung")
@officer_required
def ask_for_supplement(task_id: str):
    """The desk officer asks the agency's leaders to allow one more supplement request."""
    row = task_or_404(g.officer, task_id)
    try:
        supplement_permission.ask(db_session(), row.instance_id, g.officer.actor(), request.form.get("ly_do_de_nghi", ""))
    except (BadInput, Conflict) as err:  # no reason; already asked, or not needed
        return _refused(row, "ly_do_de_nghi", err)
    return _done(row, "Đã gửi đề nghị cho phép yêu cầu bổ sung thêm tới lãnh đạo")


@blueprint.post("/ho-so/<instance_id>/cho-phep-bo-sung")
@officer_required
def allow_requested_supplement(instance_id: str):
    """A leader allows, from the inbox list, one more supplement request a desk officer asked for."""
    settings = current_app.extensions["motcua"].settings
    db = db_session()
    try:
        dossier = supplement_permission.allow(db, instance_id, g.officer.agency, g.officer.actor(),
                                              request.form.get("ly_do_cho_phep", ""), settings.leader_group)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except BadInput as err:
        db.rollback()
        flash(f"Chưa cho phép: {err.message}")
        return redirect(url_for("inbox.task_list"))
    db.commit()
    flash(f"Đã cho phép hồ sơ {dossier.code} yêu cầu bổ sung thêm một lần")
    return redirect(url_for("inbox.task_list"))


@blueprint.get("/viec/<task_id>/tai-lieu/<key>")
@officer_required
def document(task_id: str, key: str):
    """One of the dossier's files (the citizen's uploads, the documents issued), if it lies where files are kept."""
    row = task_or_404(g.officer, task_id)
    path = task_view.document_path(db_session(), row, key)
    settings = current_app.extensions["motcua"].settings
    folders = [uploads.folder(settings).resolve(), (settings.var_dir / "documents").resolve()]
    if not path or not Path(path).is_file() or not any(Path(path).resolve().is_relative_to(f) for f in folders):
        abort(404)
    return send_file(Path(path).resolve(), as_attachment=True, download_name=Path(path).name)
