"""Officers signing in and out, and the decorator that keeps the inbox's pages for signed-in officers.

An officer signs in with their account's password or, when the province's OpenID Connect provider is configured
(``MOTCUA_OFFICER_OIDC_ISSUER``), through it: the claim ``MOTCUA_OFFICER_OIDC_CLAIM`` of the verified ID token
names the local account, which must exist, be enabled and belong to a person (never a service account).
"""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, redirect, render_template, request, session, url_for

from engine import account_admin, accounts, rate_limits
from webapp import oidc
from webapp.database import session as db_session
from webapp.inbox import blueprint
from webapp.portal import sessions
from webapp.portal.sessions import sign_in_required

SIGN_INS = 10
SIGN_IN_WINDOW = dt.timedelta(minutes=10)
PENDING = "officer_oidc"  # the session key of a sign-in through the province's provider on its way
OFFICE_PATHS = ("/can-bo", "/quan-tri", "/dieu-hanh")  # where a sign-in may send the officer afterwards


def safe_target(target: str | None) -> str:
    """Where to go after signing in: a page of the inbox, the admin pages or the console, else the inbox (no open
    redirect)."""
    target = target or ""
    if target.startswith(OFFICE_PATHS) and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("inbox.task_list")


def sign_in_done(principal: accounts.Principal, target: str | None):
    """Open the officer's session and go where they were going."""
    sessions.begin("officer", principal.name, name=principal.name)
    return redirect(safe_target(target))


def officer() -> accounts.Principal | None:
    """The signed-in officer, as their account is now, while their server-side session is open (signing out or a
    disabled account ends it)."""
    name = (sessions.signed_in("officer", "name") or {}).get("name")
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
        # only failures count: officers of one commune often share one address, and each signs in every morning
        key, now = f"officer-login:{request.remote_addr}", dt.datetime.now(dt.timezone.utc)
        if rate_limits.exhausted(db, key, SIGN_INS, SIGN_IN_WINDOW, now):
            abort(429)
        principal = accounts.by_password(db, request.form.get("ten", "").strip(), request.form.get("mat_khau", ""))
        if principal is None or principal.is_service:
            rate_limits.allow(db, key, SIGN_INS, SIGN_IN_WINDOW, now)
            errors["ten"] = "Tên đăng nhập hoặc mật khẩu không đúng"
        db.commit()  # the failure counts, and an upgraded password hash is kept
        if not errors:
            return sign_in_done(principal, request.args.get("next"))
    return _sign_in_page(errors, 401 if errors else 200)


def _sign_in_page(errors: dict, status: int):
    provincial = current_app.extensions["motcua"].settings.officer_oidc_issuer is not None
    return render_template("inbox/sign_in.html", errors=errors, name=request.form.get("ten", ""),
                           provincial=provincial), status


def _provincial_client() -> oidc.Client:
    settings = current_app.extensions["motcua"].settings
    if settings.officer_oidc_issuer is None:
        abort(404)
    return oidc.Client(settings.officer_oidc_issuer, settings.officer_oidc_client_id,
                       settings.officer_oidc_client_secret, "inbox.provincial_callback", settings.officer_oidc_scope)


def _provincial_refused(message: str, status: int = 403):
    return _sign_in_page({"tinh": f"Không đăng nhập được bằng tài khoản của tỉnh: {message}"}, status)


@blueprint.get("/dang-nhap/tinh")
def provincial_sign_in():
    """Send the officer to the province's OpenID Connect provider (404 when none is configured)."""
    try:
        return oidc.start(_provincial_client(), PENDING, next=safe_target(request.args.get("next")))
    except oidc.Refused as refused:
        return _provincial_refused(refused.message, 503)


@blueprint.get("/dang-nhap/tinh/xong")
def provincial_callback():
    """Verify the provider's answer and sign in the local account its claim names, if it may sign in."""
    client = _provincial_client()
    try:
        claims, pending = oidc.finish(client, PENDING)
    except oidc.Refused as refused:
        return _provincial_refused(refused.message, 400)
    claim = current_app.extensions["motcua"].settings.officer_oidc_claim
    name = claims.get(claim)
    if not isinstance(name, str) or not name:
        return _provincial_refused(f"máy chủ đăng nhập không cho biết tên tài khoản ({claim})")
    account = account_admin.detail(db_session(), name) if name == name.strip() else None  # exactly that name
    if account is None:
        return _provincial_refused(f"chưa có tài khoản “{name}” trong hệ thống Một cửa; "
                                   "đề nghị quản trị viên tạo tài khoản")
    if account["service"]:
        return _provincial_refused(f"“{name}” là tài khoản dịch vụ, không dùng để đăng nhập trang web")
    principal = accounts.by_name(db_session(), name)
    if account["disabled"] or principal is None:
        return _provincial_refused(f"tài khoản “{name}” đã bị khóa; đề nghị liên hệ quản trị viên")
    return sign_in_done(principal, pending.get("next"))


@blueprint.post("/dang-xuat")
def sign_out():
    """End the officer's session, on the server too, so a copy of the cookie is refused."""
    sessions.end("officer")
    return redirect(url_for("inbox.sign_in"))
