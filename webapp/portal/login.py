"""Citizens sign in with OpenID Connect (authorization code + PKCE S256 + nonce), as VNeID is used.

The provider is ``MOTCUA_OIDC_ISSUER``; without one, the stand-in this app serves at ``/sandbox-vneid``.
Its discovery document names the endpoints; the ID token is checked against the provider's published keys
(signature, issuer, audience, expiry, nonce) before the citizen's identification number, name and date of
birth go into the session. The session cookie is signed, HTTP-only and SameSite=Lax (Secure over HTTPS).
"""
from __future__ import annotations

import hmac
import threading
import time
from urllib.parse import urlencode, urlparse

import requests
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import abort, current_app, redirect, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from webapp.errors import error_page
from webapp.portal import blueprint
from webapp.portal.vneid_standin import issuer as standin_issuer

HTTP_TIMEOUT = 10
_DISCOVERY: dict[str, tuple[float, dict, dict]] = {}  # issuer → (fetched at, metadata, JWKS)
_LOCK = threading.Lock()
CACHE_SECONDS = 600


def provider_issuer() -> str | None:
    """The configured provider, or this app's stand-in when it is switched on; None when neither is."""
    settings = current_app.extensions["motcua"].settings
    return settings.oidc_issuer or (standin_issuer() if settings.vneid_standin else None)


def _provider(issuer: str, refresh: bool = False) -> tuple[dict, dict]:
    with _LOCK:
        cached = _DISCOVERY.get(issuer)
    if cached and not refresh and time.time() - cached[0] < CACHE_SECONDS:
        return cached[1], cached[2]
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT).json()
    keys = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    with _LOCK:
        _DISCOVERY[issuer] = (time.time(), metadata, keys)
    return metadata, keys


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
    metadata, _ = _provider(issuer)
    verifier, state, nonce = generate_token(64), generate_token(32), generate_token(32)
    session["oidc"] = {"state": state, "nonce": nonce, "verifier": verifier, "issuer": issuer,
                       "next": _safe_next(request.args.get("next"))}
    settings = current_app.extensions["motcua"].settings
    query = {"response_type": "code", "client_id": settings.oidc_client_id, "scope": "openid profile",
             "redirect_uri": url_for("portal.login_callback", _external=True), "state": state, "nonce": nonce,
             "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    return redirect(f"{metadata['authorization_endpoint']}?{urlencode(query)}")


def _refused(message: str):
    session.pop("oidc", None)
    return error_page(400, f"Không đăng nhập được: {message}. Vui lòng đăng nhập lại.")


@blueprint.get("/dang-nhap/xong")
def login_callback():
    """Check the answer, redeem the code with the PKCE verifier, verify the ID token, open the session."""
    pending = session.get("oidc")
    if not pending or not hmac.compare_digest(request.args.get("state", ""), pending["state"]):
        return _refused("phiên đăng nhập đã hết hạn hoặc không khớp")
    if request.args.get("error") or not request.args.get("code"):
        return _refused("nhà cung cấp định danh từ chối yêu cầu")
    settings = current_app.extensions["motcua"].settings
    metadata, keys = _provider(pending["issuer"])
    answer = requests.post(metadata["token_endpoint"], timeout=HTTP_TIMEOUT, data={
        "grant_type": "authorization_code", "code": request.args["code"], "code_verifier": pending["verifier"],
        "redirect_uri": url_for("portal.login_callback", _external=True), "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret})
    if answer.status_code != 200 or "id_token" not in answer.json():
        return _refused("mã xác thực không hợp lệ")
    try:
        claims = _verified(answer.json()["id_token"], keys, pending, settings.oidc_client_id)
    except JoseError:
        _, keys = _provider(pending["issuer"], refresh=True)  # the provider may have rotated its keys
        try:
            claims = _verified(answer.json()["id_token"], keys, pending, settings.oidc_client_id)
        except JoseError:
            return _refused("thẻ định danh (ID token) không hợp lệ")
    number = str(claims.get("so_dinh_danh") or "")
    if len(number) != 12 or not number.isdigit():
        return _refused("tài khoản định danh không có số định danh cá nhân")
    target = pending["next"]
    session.clear()  # a new session for the signed-in citizen (no fixation)
    session["citizen"] = {"so_dinh_danh": number, "name": claims.get("name"), "birthdate": claims.get("birthdate"),
                          "sub": claims["sub"]}
    session.permanent = True
    return redirect(target)


def _verified(token: str, keys: dict, pending: dict, client_id: str) -> dict:
    claims = jwt.decode(token, KeySet.import_key_set(keys), algorithms=["RS256", "ES256"]).claims
    jwt.JWTClaimsRegistry(leeway=60, iss={"essential": True, "value": pending["issuer"]},
                          aud={"essential": True, "value": client_id}, exp={"essential": True},
                          nonce={"essential": True, "value": pending["nonce"]}).validate(claims)
    return dict(claims)


@blueprint.post("/dang-xuat")
def logout():
    """End the citizen's session (the form carries the CSRF token)."""
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
