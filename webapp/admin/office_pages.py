"""Agencies and groups on the admin pages: each list with a form to add one; an agency's page to rename it and
to disable or enable it; a group's page to retitle it. Each form has a "Lý do" field, kept in the audit log: optional
when adding, required for a change to an agency or a group that exists."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from engine import agencies
from engine.errors import Conflict
from webapp import reasons
from webapp.admin import admin_required, blueprint, checks, page
from webapp.database import session as db_session


def _agencies_page(db, errors: dict):
    return page("admin/agencies.html", 400 if errors else 200, rows=agencies.agencies(db), errors=errors,
                values=request.form if request.method == "POST" else {})


@blueprint.route("/co-quan", methods=["GET", "POST"])
@admin_required
def agency_list():
    """Every agency; the form below adds one (a parent, when chosen, is an agency already defined)."""
    db = db_session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        code = checks.agency_code(errors, request.form.get("ma"))
        name = checks.title(errors, "ten", request.form.get("ten"), "tên cơ quan")
        parent = (request.form.get("co_quan_cha") or "").strip() or None
        if parent and agencies.agency(db, parent) is None:
            errors["co_quan_cha"] = f"Cơ quan cấp trên “{parent}” chưa được khai báo"
        reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "thêm cơ quan", required=False)
        if not errors:
            try:
                agencies.add_agency(db, code, name, parent, by=g.officer.name, reason=reason)
                db.commit()
            except (Conflict, IntegrityError):
                db.rollback()
                errors["ma"] = f"Đã có cơ quan mã “{code}”"
            else:
                flash(f"Đã thêm cơ quan {code}.")
                return redirect(url_for("admin.agency_list"))
    return _agencies_page(db, errors)


def _agency(db, code: str) -> dict:
    agency = agencies.agency(db, code)
    if agency is None:
        abort(404)
    return agency


def _agency_page(agency: dict, errors: dict, name: str | None = None):
    """The agency's page: its rename form (showing ``name``) and its disable or enable form."""
    return page("admin/agency_edit.html", 400 if errors else 200, agency=agency, name=name or agency["name"],
                errors=errors, values=request.form if request.method == "POST" else {})


@blueprint.route("/co-quan/<code>", methods=["GET", "POST"])
@admin_required
def agency_edit(code: str):
    """An agency: rename it (its code stays: dossier codes carry it), disable or enable it."""
    db = db_session()
    agency = _agency(db, code)
    errors: dict[str, str] = {}
    name = agency["name"]
    if request.method == "POST":
        name = checks.title(errors, "ten", request.form.get("ten"), "tên cơ quan")
        reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "đổi tên cơ quan")
        if not errors:
            agencies.rename_agency(db, code, name, by=g.officer.name, reason=reason)
            db.commit()
            flash(f"Đã đổi tên cơ quan {code}.")
            return redirect(url_for("admin.agency_list"))
    return _agency_page(agency, errors, name)


def _switch(code: str, disabled: bool):
    db = db_session()
    agency = _agency(db, code)
    errors: dict[str, str] = {}
    reason = reasons.check(errors, "ly_do_trang_thai", request.form.get("ly_do_trang_thai"),
                           "ngừng hoạt động cơ quan" if disabled else "cho cơ quan hoạt động trở lại")
    if errors:
        return _agency_page(agency, errors)
    agencies.set_agency_disabled(db, code, disabled, by=g.officer.name, reason=reason)
    db.commit()
    flash(f"Cơ quan {code} đã ngừng hoạt động." if disabled else f"Cơ quan {code} hoạt động trở lại.")
    return redirect(url_for("admin.agency_list"))


@blueprint.post("/co-quan/<code>/ngung")
@admin_required
def agency_disable(code: str):
    """Disable an agency: no account can be moved to it; its accounts keep working."""
    return _switch(code, True)


@blueprint.post("/co-quan/<code>/hoat-dong")
@admin_required
def agency_enable(code: str):
    """Enable a disabled agency again."""
    return _switch(code, False)


@blueprint.route("/nhom", methods=["GET", "POST"])
@admin_required
def group_list():
    """Every group (``admin`` is built in); the form below adds one."""
    db = db_session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        name = checks.group_name(errors, request.form.get("ten"))
        title = checks.title(errors, "ten_nhom", request.form.get("ten_nhom"), "tên gọi của nhóm")
        reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "thêm nhóm", required=False)
        if not errors:
            try:
                agencies.add_group(db, name, title, by=g.officer.name, reason=reason)
                db.commit()
            except (Conflict, IntegrityError):
                db.rollback()
                errors["ten"] = f"Đã có nhóm “{name}”"
            else:
                flash(f"Đã thêm nhóm {name}.")
                return redirect(url_for("admin.group_list"))
    return page("admin/groups.html", 400 if errors else 200, rows=agencies.groups(db), errors=errors,
                values=request.form if request.method == "POST" else {})


@blueprint.route("/nhom/<name>", methods=["GET", "POST"])
@admin_required
def group_edit(name: str):
    """Give a group a new title (its name stays: the processes' candidate groups carry it)."""
    db = db_session()
    group = agencies.group(db, name)
    if group is None:
        abort(404)
    errors: dict[str, str] = {}
    title = group["title"]
    if request.method == "POST":
        title = checks.title(errors, "ten_nhom", request.form.get("ten_nhom"), "tên gọi của nhóm")
        reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "đổi tên gọi nhóm")
        if not errors:
            agencies.retitle_group(db, name, title, by=g.officer.name, reason=reason)
            db.commit()
            flash(f"Đã đổi tên gọi của nhóm {name}.")
            return redirect(url_for("admin.group_list"))
    return page("admin/group_edit.html", 400 if errors else 200, group=group, title=title, errors=errors,
                values=request.form if request.method == "POST" else {})
