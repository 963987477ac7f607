"""Officers signing in and out, and the decorator that keeps the inbox's pages for signed-in officers."""
from __future__ import annotations

import datetime as dt

from flask import abort, redirect, render_template, request, session, url_for

from engine import accounts, rate_limits
from webapp.database import session as db_session
from webapp.inbox import blueprint
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
