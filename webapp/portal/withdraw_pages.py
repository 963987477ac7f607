"""Withdrawing a dossier: the citizen confirms, may say why, and the procedure's withdrawal path ends it."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from engine import citizen_dossiers
from engine.errors import Conflict, NotFound
from webapp.database import session as db_session
from webapp.portal import blueprint
from webapp.portal.citizens import citizen_required


@blueprint.route("/ho-so/<code>/rut", methods=["GET", "POST"])
@citizen_required
def withdraw(code: str):
    """Ask the citizen to confirm the withdrawal of their own dossier; on confirmation, withdraw it."""
    owner = g.citizen["so_dinh_danh"]
    session = db_session()
    try:
        story = citizen_dossiers.story(session, code, owner)
    except NotFound:
        abort(404)
    if not story["mayWithdraw"]:
        return redirect(url_for("portal.dossier_page", code=code))
    reason, errors = request.form.get("ly_do", "").strip(), {}
    if request.method == "POST":
        if len(reason) > citizen_dossiers.WITHDRAW_REASON_MAX:
            errors["ly_do"] = f"Lý do rút hồ sơ không được quá {citizen_dossiers.WITHDRAW_REASON_MAX} ký tự"
        else:
            try:
                citizen_dossiers.withdraw(session, code, owner, reason)
                session.commit()
            except Conflict:  # a step moved it past withdrawal meanwhile: the dossier page says where it is
                session.rollback()
            return redirect(url_for("portal.dossier_page", code=code))
    return render_template("portal/withdraw.html", d=story, reason=reason, errors=errors,
                           max_length=citizen_dossiers.WITHDRAW_REASON_MAX), 400 if errors else 200
