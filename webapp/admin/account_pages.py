"""Accounts on the admin pages: the list, a new account, and one account's groups, agency, display name,
password and state. An administrator cannot disable their own account or take themselves out of ``admin``.

Each form has a "Lý do" field, kept in the audit log: optional for a new account, required for every change to one.
The account page has three forms, so each has its own reason field (:data:`REASONS`)."""
from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from engine import account_admin, accounts, agencies
from engine.errors import Conflict
from webapp import reasons
from webapp.admin import admin_required, blueprint, checks, page
from webapp.database import session as db_session
from webapp.rest import auth as rest_auth


def _choices(db, account: dict | None = None) -> dict:
    """What the agency and group fields offer: defined agencies and groups (and what the account already has)."""
    defined = agencies.agencies(db)
    current = (account or {}).get("agency")
    agency_options = [(a["code"], a["name"] + (" (ngừng hoạt động)" if a["disabled"] else ""))
                      for a in defined if not a["disabled"] or a["code"] == current]
    groups = [(r["name"], r["title"]) for r in agencies.groups(db)]
    known = {name for name, _ in groups}
    groups += [(name, "chưa khai báo") for name in (account or {}).get("groups", []) if name not in known]
    return {"agency_options": agency_options, "agencies_defined": bool(defined), "group_options": groups,
            "groups_defined": len(known) > 1}


REASONS = ("ly_do", "ly_do_mat_khau", "ly_do_khoa")  # the reason fields: account's details, password, state


def _values(account: dict | None, posted: bool) -> dict:
    """The form's values: what was posted, else the account's; the reasons as posted (empty on a new page)."""
    form = request.form
    typed = {field: form.get(field, "") for field in REASONS}
    if posted:
        return {"ten": form.get("ten", ""), "ten_hien_thi": form.get("ten_hien_thi", ""),
                "co_quan": form.get("co_quan", ""), "nhom": form.getlist("nhom"),
                "nhom_khac": form.get("nhom_khac", ""), **typed}
    account = account or {}
    return {"ten": account.get("name", ""), "ten_hien_thi": account.get("displayName") or "",
            "co_quan": account.get("agency") or "", "nhom": account.get("groups", []), "nhom_khac": "", **typed}


def _posted_groups() -> list[str]:
    return request.form.getlist("nhom") + [request.form.get("nhom_khac", "")]


def _provincial() -> bool:
    return current_app.extensions["motcua"].settings.officer_oidc_issuer is not None


@blueprint.get("/")
@admin_required
def home():
    """The admin pages start with the accounts."""
    return redirect(url_for("admin.account_list"))


@blueprint.get("/tai-khoan")
@admin_required
def account_list():
    """Every account with its agency, groups and state."""
    db = db_session()
    names = {a["code"]: a["name"] for a in agencies.agencies(db)}
    return page("admin/accounts.html", rows=accounts.listing(db), agency_names=names)


@blueprint.route("/tai-khoan/moi", methods=["GET", "POST"])
@admin_required
def account_new():
    """Create an account for a person (service accounts are made with ``motcua users add --service``)."""
    db = db_session()
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        name = checks.account_name(errors, form.get("ten"))
        display = checks.display_name(errors, form.get("ten_hien_thi"))
        agency = checks.account_agency(errors, db, form.get("co_quan"))
        groups = checks.account_groups(errors, db, _posted_groups())
        password = checks.password(errors, form.get("mat_khau", ""), form.get("mat_khau_2", ""),
                                   optional=_provincial())
        reason = reasons.check(errors, "ly_do", form.get("ly_do"), "tạo tài khoản", required=False)
        if not errors:
            try:
                accounts.add(db, name, password, groups, agency, display_name=display, external=password is None,
                             by=g.officer.name, reason=reason)
                db.commit()
            except (Conflict, IntegrityError):
                db.rollback()
                errors["ten"] = f"Đã có tài khoản tên “{name}”"
            else:
                flash(f"Đã tạo tài khoản {name}.")
                return redirect(url_for("admin.account_edit", name=name))
    return page("admin/account_new.html", 400 if errors else 200, errors=errors,
                values=_values(None, request.method == "POST"),
                provincial=_provincial(), **_choices(db))


def _account(db, name: str) -> dict:
    account = account_admin.detail(db, name)
    if account is None:
        abort(404)
    return account


def _edit_page(db, account: dict, errors: dict, posted: bool = False):
    """The account page; ``posted``: the details form was sent, so it shows what was typed."""
    return page("admin/account_edit.html", 400 if errors else 200, errors=errors, account=account,
                values=_values(account, posted), **_choices(db, account))


@blueprint.route("/tai-khoan/<name>", methods=["GET", "POST"])
@admin_required
def account_edit(name: str):
    """One account: change its display name, agency and groups."""
    db = db_session()
    account = _account(db, name)
    errors: dict[str, str] = {}
    if request.method == "POST":
        display = checks.display_name(errors, request.form.get("ten_hien_thi"))
        agency = checks.account_agency(errors, db, request.form.get("co_quan"), account["agency"])
        groups = checks.account_groups(errors, db, _posted_groups(), account["groups"])
        if name == g.officer.name and agencies.ADMIN not in groups and "nhom" not in errors:
            errors["nhom"] = "Không thể tự bỏ nhóm admin của chính mình; hãy nhờ một quản trị viên khác"
        reason = reasons.check(errors, "ly_do", request.form.get("ly_do"), "thay đổi tài khoản")
        if not errors:
            account_admin.update(db, name, groups=groups, agency=agency, display_name=display, by=g.officer.name,
                                 reason=reason)
            db.commit()
            rest_auth.forget_cached()  # this process's remembered REST credentials carry the old groups
            flash("Đã lưu thay đổi.")
            return redirect(url_for("admin.account_edit", name=name))
    return _edit_page(db, account, errors, posted=request.method == "POST")


@blueprint.post("/tai-khoan/<name>/mat-khau")
@admin_required
def account_password(name: str):
    """Give the account a new password (typed twice)."""
    db = db_session()
    account = _account(db, name)
    errors: dict[str, str] = {}
    password = checks.password(errors, request.form.get("mat_khau", ""), request.form.get("mat_khau_2", ""))
    reason = reasons.check(errors, "ly_do_mat_khau", request.form.get("ly_do_mat_khau"), "đặt mật khẩu mới")
    if errors:
        return _edit_page(db, account, errors)
    account_admin.set_password(db, name, password, by=g.officer.name, reason=reason)
    db.commit()
    rest_auth.forget_cached()
    flash(f"Đã đặt mật khẩu mới cho {name}.")
    return redirect(url_for("admin.account_edit", name=name))


def _switch(name: str, disabled: bool):
    db = db_session()
    account = _account(db, name)
    if disabled and name == g.officer.name:
        return _edit_page(db, account, {"khoa": "Không thể tự khóa tài khoản của chính mình"})
    errors: dict[str, str] = {}
    reason = reasons.check(errors, "ly_do_khoa", request.form.get("ly_do_khoa"),
                           "khóa tài khoản" if disabled else "mở khóa tài khoản")
    if errors:
        return _edit_page(db, account, errors)
    account_admin.set_disabled(db, name, disabled, by=g.officer.name, reason=reason)
    db.commit()
    rest_auth.forget_cached()
    flash(f"Đã khóa tài khoản {name}." if disabled else f"Đã mở khóa tài khoản {name}.")
    return redirect(url_for("admin.account_edit", name=name))


@blueprint.post("/tai-khoan/<name>/khoa")
@admin_required
def account_disable(name: str):
    """Disable the account: it cannot sign in any more and its open sessions end."""
    return _switch(name, True)


@blueprint.post("/tai-khoan/<name>/mo-khoa")
@admin_required
def account_enable(name: str):
    """Enable the account again."""
    return _switch(name, False)
