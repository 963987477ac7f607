"""The inbox list: the tasks of the officer's groups in their agency, filtered, sorted and paged; the officer's
saved filters (save the current one under a name, open one, delete one)."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from engine import catalogue, inbox, saved_filters, supplement_permission
from engine.dossiers import STATUSES
from engine.errors import BadInput, NotFound
from webapp.database import session as db_session
from webapp.inbox import blueprint
from webapp.inbox.auth import officer_required

FIELDS = ("thu_tuc", "trang_thai", "han", "nguoi_xu_ly", "ma_ho_so", "sap_xep", "thu_tu")  # the filter's parameters
SORTS = {"due": "Hạn xử lý", "received": "Ngày tiếp nhận", "procedure": "Thủ tục", "code": "Mã hồ sơ"}
DUE = {"overdue": "Quá hạn", "due_soon": "Sắp đến hạn", "on_time": "Còn hạn"}
MAX_CODE = 100  # characters of a dossier-code search


def read_filters(args) -> dict[str, str]:
    """The filter in a query string, with unknown or malformed values dropped and defaults left out."""
    raw = {k: (args.get(k) or "").strip() for k in FIELDS}
    status, sort = raw["trang_thai"], raw["sap_xep"]
    found = {"thu_tuc": raw["thu_tuc"][:255], "nguoi_xu_ly": raw["nguoi_xu_ly"][:100],
             "ma_ho_so": raw["ma_ho_so"][:MAX_CODE], "han": raw["han"] if raw["han"] in DUE else "",
             "trang_thai": status if status.isdigit() and int(status) in STATUSES else "",
             "sap_xep": sort if sort in SORTS and sort != "due" else "",
             "thu_tu": "desc" if raw["thu_tu"] == "desc" else ""}
    return {k: v for k, v in found.items() if v}


def query_of(filters: dict[str, str]) -> str:
    """The filter as a query string, its parameters in a fixed order."""
    return urlencode([(k, filters[k]) for k in FIELDS if filters.get(k)])


def _page(args, errors: dict[str, str] | None = None, filter_name: str = "", status: int = 200):
    principal = g.officer
    filters = read_filters(args)
    db = db_session()
    status_code = int(filters["trang_thai"]) if "trang_thai" in filters else None
    criteria = dict(process_key=filters.get("thu_tuc"), due=filters.get("han"), assignee=filters.get("nguoi_xu_ly"),
                    code=filters.get("ma_ho_so"), status=status_code, sort=filters.get("sap_xep", "due"),
                    descending=filters.get("thu_tu") == "desc")
    after, before = args.get("sau") or None, args.get("truoc") or None
    try:
        found = inbox.tasks(db, principal, after=after, before=before, **criteria)
        number = max(args.get("trang", 1, type=int) or 1, 1) if after or before else 1
    except BadInput:  # a cursor of another order, or mangled: start at the first page
        found, number = inbox.tasks(db, principal, **criteria), 1
    leader = current_app.extensions["motcua"].settings.leader_group in principal.groups
    return render_template("inbox/list.html", officer=principal, found=found, filters=filters, number=number,
                           permission_requests=supplement_permission.waiting(db, principal.agency) if leader else [],
                           query=query_of(filters),
                           procedures=[(p.process_key, p.name) for p in catalogue.procedures(db)],
                           statuses=STATUSES, due_states=DUE, sorts=SORTS, colleagues=inbox.colleagues(db, principal),
                           saved=saved_filters.listing(db, principal.name), errors=errors or {},
                           filter_name=filter_name), status


@blueprint.get("/")
@officer_required
def task_list():
    """The tasks of the officer's groups in their agency, soonest due first, with filters and saved filters."""
    return _page(request.args)


@blueprint.post("/bo-loc")
@officer_required
def save_filter():
    """Save the filter the officer is looking at under a name, then show it."""
    filters = read_filters(dict(parse_qsl(request.form.get("loc", ""))))
    name = request.form.get("ten_bo_loc", "")
    db = db_session()
    try:
        saved = saved_filters.save(db, g.officer.name, name, query_of(filters))
    except BadInput as err:
        db.rollback()
        return _page(MultiDict(filters), {"ten_bo_loc": err.message}, name, 400)  # the list, with the error
    db.commit()
    flash(f"Đã lưu bộ lọc «{saved['name']}».")
    return redirect(url_for("inbox.task_list", **filters))


@blueprint.post("/bo-loc/<int:filter_id>/xoa")
@officer_required
def delete_filter(filter_id: int):
    """Delete one of the officer's saved filters (another officer's is not found)."""
    db = db_session()
    try:
        saved_filters.delete(db, g.officer.name, filter_id)
    except NotFound:
        abort(404)
    db.commit()
    flash("Đã xoá bộ lọc.")
    return redirect(url_for("inbox.task_list"))
