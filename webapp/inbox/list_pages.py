"""The inbox list: the tasks of the officer's groups in their agency, filtered, sorted and paged."""
from __future__ import annotations

from flask import g, render_template, request

from engine import catalogue, inbox
from webapp.database import session as db_session
from webapp.inbox import blueprint
from webapp.inbox.auth import officer_required


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
