"""Discarding an application draft (GOV.UK's "delete" pattern): a confirmation page says what will be deleted —
the answers and files of the application for a procedure, started on a day — and only its "Xóa bản nháp" button
(a POST with the CSRF token) deletes it; "Hồ sơ của tôi" then says it is done. A citizen who reached the limit of
open drafts is sent here through "Hồ sơ của tôi". A submitted application is a dossier: its page, and the
withdrawal there, take over."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for

from engine import applications, catalogue
from engine.errors import Conflict, NotFound
from webapp.database import session as db_session
from webapp.portal import blueprint, uploads
from webapp.portal.citizens import citizen_required

TOO_MANY_DRAFTS = ("Ông/Bà đang có {count} hồ sơ soạn dở chưa nộp, là số tối đa. Hãy nộp hoặc xóa một hồ sơ đang "
                   "soạn (“Xóa bản nháp” bên cạnh hồ sơ trong Hồ sơ của tôi) rồi bắt đầu hồ sơ mới.")


def too_many_drafts_page():
    """The limit on open drafts, in Vietnamese, with the way to "Hồ sơ của tôi" where a draft is discarded."""
    return render_template("portal/error.html", title="Đã có quá nhiều hồ sơ đang soạn",
                           message=TOO_MANY_DRAFTS.format(count=applications.MAX_OPEN_DRAFTS),
                           action=(url_for("portal.my_dossiers"), "Đến Hồ sơ của tôi để xóa bản nháp")), 400


def _back(draft_id: str) -> str:
    """Where "Quay lại" leads: the draft's page the citizen came from (``tu``: a page number or ``kiem-tra``), else
    "Hồ sơ của tôi"."""
    came_from = request.args.get("tu", "")
    if came_from == "kiem-tra":
        return url_for("portal.apply_check", draft_id=draft_id)
    if came_from.isdigit() and 0 < int(came_from) < 100:
        return url_for("portal.apply_page", draft_id=draft_id, number=int(came_from))
    return url_for("portal.my_dossiers")


def _own_draft(draft_id: str, owner: str):
    session = db_session()
    try:
        return session, applications.get(session, draft_id, owner)
    except NotFound:
        abort(404)  # nobody else's draft is revealed, not even that it exists


def _procedure_name(session, code: str) -> str:
    try:
        return catalogue.find(session, code).name
    except NotFound:  # a procedure taken out of the catalogue: its code still names it
        return code


@blueprint.route("/don/<draft_id>/xoa", methods=["GET", "POST"])
@citizen_required
def discard_draft(draft_id: str):
    """Ask the citizen to confirm that their draft is to be deleted; on confirmation, delete it with its files."""
    owner = g.citizen["so_dinh_danh"]
    session, draft = _own_draft(draft_id, owner)
    if draft.submitted_code:
        return redirect(url_for("portal.dossier_page", code=draft.submitted_code), 303)
    name = _procedure_name(session, draft.procedure_code)
    if request.method == "POST":
        try:
            files = applications.discard(session, draft_id, owner)
        except NotFound:  # discarded meanwhile, in another tab
            session.rollback()
            return redirect(url_for("portal.my_dossiers"), 303)
        except Conflict:  # submitted meanwhile: it is a dossier now
            session.rollback()
            session.refresh(draft)
            return redirect(url_for("portal.dossier_page", code=draft.submitted_code), 303)
        uploads.discard(session, current_app.extensions["motcua"].settings, files)
        session.commit()
        flash(f"Đã xóa bản nháp hồ sơ {name}.", "da_xoa")
        return redirect(url_for("portal.my_dossiers"), 303)
    return render_template("portal/discard_draft.html", draft=draft, procedure_name=name, back=_back(draft.id))
