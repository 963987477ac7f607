"""Citizens sign in with OpenID Connect (authorization code + PKCE S256 + nonce), as VNeID is used.

The provider is ``MOTCUA_OIDC_ISSUER``; without one, the stand-in this app serves at ``/sandbox-vneid``.
Its discovery document names the endpoints; the ID token is checked against the provider's published keys
(signature, issuer, audience, expiry, nonce) before the citizen's identification number, name and date of
birth go into the session, which is also recorded on the server (:func:`webapp.portal.sessions.begin`) so that
signing out ends it for every copy of the cookie. The session cookie is signed, HTTP-only and SameSite=Lax (Secure over HTTPS).
"""
from __future__ import annotations

from urllib.parse import urlparse

from flask import abort, current_app, redirect, request, session, url_for

from webapp import oidc
from webapp.errors import error_page
from webapp.portal import blueprint, sessions
from webapp.portal.vneid_standin import issuer as standin_issuer

PENDING = "oidc"  # the session key of a sign-in on its way


def provider_issuer() -> str | None:
    """The configured provider, or this app's stand-in when it is switched on; None when neither is."""
    settings = current_app.extensions["motcua"].settings
    return settings.oidc_issuer or (standin_issuer() if settings.vneid_standin else None)


def _client(issuer: str) -> oidc.Client:
    settings = current_app.extensions["motcua"].settings
    return oidc.Client(issuer, settings.oidc_client_id, settings.oidc_client_secret, "portal.login_callback")


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no open redirect)."""
    parsed = urlparse(target or "")
    if parsed.scheme or parsed.netloc or not (target or "").startswith("/") or (target or "").startswith("//"):
        return url_for("portal.catalogue_page")
    return target


@blueprint.get("/dang-nhap")
def login():
    """Send the citizen to the identity provider."""
    issuer = provider_issuer()
    if issuer is None:
        return error_page(503, "Chưa cấu hình đăng nhập bằng tài khoản định danh điện tử (MOTCUA_OIDC_ISSUER).")
    try:
        return oidc.start(_client(issuer), PENDING, next=_safe_next(request.args.get("next")))
    except oidc.Refused as refused:
        return error_page(503, f"Không đăng nhập được: {refused.message}. Vui lòng thử lại sau.")


def _refused(message: str):
    session.pop(PENDING, None)
    return error_page(400, f"Không đăng nhập được: {message}. Vui lòng đăng nhập lại.")


@blueprint.get("/dang-nhap/xong")
def login_callback():
    """Check the answer, redeem the code with the PKCE verifier, verify the ID token, open the session."""
    pending = session.get(PENDING) or {}
    try:
        claims, pending = oidc.finish(_client(pending.get("issuer") or ""), PENDING)
    except oidc.Refused as refused:
        return _refused(refused.message)
    number = str(claims.get("so_dinh_danh") or "")
    if len(number) != 12 or not number.isdigit():
        return _refused("tài khoản định danh không có số định danh cá nhân")
    target = pending["next"]
    session.clear()  # a new session for the signed-in citizen (no fixation)
    sessions.begin("citizen", number, so_dinh_danh=number, name=claims.get("name"), birthdate=claims.get("birthdate"),
                   sub=claims["sub"])
    session.permanent = True
    return redirect(target)


@blueprint.post("/dang-xuat")
def logout():
    """End the citizen's session, on the server too, so a copy of the cookie is refused (the form carries the
    CSRF token)."""
    sessions.end("citizen")
    session.clear()
    return redirect(url_for("portal.catalogue_page"))


@blueprint.get("/tai-khoan")
def account():
    """Who is signed in (a page to land on after signing in; the dossiers list comes with the application)."""
    from flask import render_template
    from webapp.portal.citizens import current
    citizen = current()
    if citizen is None:
        return redirect(url_for("portal.login", next=request.path))
    if not citizen.get("so_dinh_danh"):
        abort(400)
    return render_template("portal/account.html", citizen=citizen)
