"""A STAND-IN for VNeID, the national identity provider, for demos and tests — not VNeID.

It speaks OpenID Connect as the portal expects VNeID (or the national portal's SSO) to: discovery, the
authorization-code flow with PKCE (S256) and nonce, an RS256-signed ID token whose claims carry the 12-digit
identification number (``so_dinh_danh``), the name and the date of birth, a JWKS, and userinfo. Citizens are
the synthetic population registry's; the password of every one of them is ``demo``. It is mounted at
``/sandbox-vneid`` only when no real provider is configured (``MOTCUA_OIDC_ISSUER``).

Only the portal's client is known, with the redirect URIs registered for it (``MOTCUA_OIDC_REDIRECT_URIS``, by
default the portal's own callback under ``MOTCUA_PUBLIC_URL``): any other client or redirect URI gets an error page,
never a redirect. Authorization codes are short-lived tokens signed with the stand-in's key (so any web process can
redeem them) and each can be redeemed once per process; a real provider keeps that state server-side.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Blueprint, current_app, jsonify, redirect, render_template, request

from engine import rate_limits
from webapp.portal.citizens import registry_profile

PREFIX = "/sandbox-vneid"
DEMO_PASSWORD = "demo"
CODE_SECONDS = 60
TOKEN_SECONDS = 600
KID = "vneid-standin-1"
_USED_CODES: dict[str, float] = {}
_LOCK = threading.Lock()


def _key_file(var_dir: Path) -> Path:
    path = var_dir / "vneid-standin-key.pem"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pem)
        os.chmod(partial, 0o600)
        os.replace(partial, path)  # several processes may race; each writes a whole key, one wins
    return path


def private_key():
    """The stand-in's signing key (kept in the var folder, shared by every web process)."""
    settings = current_app.extensions["motcua"].settings
    return RSAKey.import_key(_key_file(settings.var_dir).read_bytes(), parameters={"kid": KID, "use": "sig", "alg": "RS256"})


def issuer() -> str:
    """The stand-in's issuer URL: this app's own address as the browser reached it."""
    return request.host_url.rstrip("/") + PREFIX


def _sign(claims: dict) -> str:
    return jwt.encode({"alg": "RS256", "kid": KID}, claims, private_key())


def _verify(token: str, kind: str) -> dict:
    claims = jwt.decode(token, private_key()).claims
    jwt.JWTClaimsRegistry(exp={"essential": True}).validate(claims)
    if claims.get("typ") != kind:
        raise JoseError(f"not a {kind}")
    return dict(claims)


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _client_ok(client_id: str | None, secret: str | None) -> bool:
    settings = current_app.extensions["motcua"].settings
    return client_id == settings.oidc_client_id and hmac.compare_digest(
        (secret or "").encode(), settings.oidc_client_secret.encode())


def _refusal(args) -> str | None:
    """Why an authorization request is refused (in Vietnamese), or None. Like a real provider, the stand-in sends a
    code only to a redirect URI registered for the client, compared exactly as a string — no prefix, no added path
    or query (RFC 6749 §3.1.2, OpenID Connect Core §3.1.2.1) — so a forged link cannot send a citizen's code to
    someone else; the token endpoint then wants that same URI with the code."""
    settings = current_app.extensions["motcua"].settings
    if args.get("client_id") != settings.oidc_client_id:
        return "Ứng dụng (client_id) chưa được đăng ký với máy chủ định danh."
    if args.get("redirect_uri") not in settings.oidc_registered_redirect_uris:
        return "Địa chỉ chuyển về (redirect_uri) chưa được đăng ký cho ứng dụng này."
    if args.get("response_type") != "code" or args.get("code_challenge_method") != "S256" \
            or not args.get("code_challenge"):
        return "Ứng dụng yêu cầu đăng nhập thiếu thông tin bắt buộc (response_type=code, PKCE S256)."
    return None


LOGIN_ATTEMPTS = 10
LOGIN_WINDOW = dt.timedelta(minutes=10)


def _login_key() -> str:
    return f"vneid-login:{request.remote_addr}"


def _too_many_failures() -> bool:
    """Whether this client address failed to sign in ``LOGIN_ATTEMPTS`` times in the window (shared by every
    web process: counted in the database)."""
    from webapp.database import session as db_session
    return rate_limits.exhausted(db_session(), _login_key(), LOGIN_ATTEMPTS, LOGIN_WINDOW,
                                 dt.datetime.now(dt.timezone.utc))


def _count_failure() -> None:
    """Count one failed sign-in for this client address."""
    from webapp.database import session as db_session
    session = db_session()
    rate_limits.allow(session, _login_key(), LOGIN_ATTEMPTS, LOGIN_WINDOW, dt.datetime.now(dt.timezone.utc))
    session.commit()


def make_blueprint() -> Blueprint:
    """The stand-in's endpoints."""
    bp = Blueprint("vneid_standin", __name__, url_prefix=PREFIX)

    @bp.get("/.well-known/openid-configuration")
    def discovery():
        base = issuer()
        return jsonify({"issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                        "jwks_uri": f"{base}/jwks", "userinfo_endpoint": f"{base}/userinfo",
                        "response_types_supported": ["code"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                        "scopes_supported": ["openid", "profile"],
                        "claims_supported": ["sub", "so_dinh_danh", "name", "birthdate", "nonce"]})

    @bp.get("/jwks")
    def jwks():
        return jsonify({"keys": [private_key().as_dict(private=False)]})

    @bp.route("/authorize", methods=["GET", "POST"])
    def authorize():
        args = request.values
        reason = _refusal(args)
        if reason:  # an error page, never a redirect: the redirect URI is not known to be the client's
            return render_template("portal/vneid_standin.html", invalid=True, reason=reason, args=args), 400
        errors = {}
        if request.method == "POST" and _too_many_failures():
            errors["mat_khau"] = "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau 10 phút"
            return render_template("portal/vneid_standin.html", invalid=False, args=args, errors=errors), 429
        if request.method == "POST":
            number = (args.get("so_dinh_danh") or "").strip()
            profile = registry_profile(number) if len(number) == 12 and number.isdigit() else None
            if profile is None:
                errors["so_dinh_danh"] = "Số định danh cá nhân không đúng hoặc không có trong hệ thống"
            elif not hmac.compare_digest((args.get("mat_khau") or "").encode(), DEMO_PASSWORD.encode()):
                errors["mat_khau"] = "Mật khẩu không đúng"
            if errors:
                _count_failure()
            else:
                code = _sign({"typ": "code", "sub": profile.citizen_id, "cid": args["client_id"],
                              "ru": args["redirect_uri"], "cc": args["code_challenge"], "n": args.get("nonce"),
                              "exp": int(time.time()) + CODE_SECONDS, "jti": base64.urlsafe_b64encode(os.urandom(12)).decode()})
                return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")
        return render_template("portal/vneid_standin.html", invalid=False, args=args, errors=errors), \
            400 if errors else 200

    @bp.post("/token")
    def token():
        form = request.form
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization is not None:
            client_id, secret = request.authorization.username, request.authorization.password
        if not _client_ok(client_id, secret):
            return jsonify({"error": "invalid_client"}), 401
        try:
            code = _verify(form.get("code", ""), "code")
        except (JoseError, ValueError):
            return jsonify({"error": "invalid_grant", "error_description": "the code is invalid or expired"}), 400
        with _LOCK:
            now = time.time()
            for jti in [j for j, exp in _USED_CODES.items() if exp < now]:
                del _USED_CODES[jti]
            reused = code["jti"] in _USED_CODES
            _USED_CODES[code["jti"]] = code["exp"]
        if reused or code["cid"] != client_id or code["ru"] != form.get("redirect_uri") \
                or not hmac.compare_digest(_s256(form.get("code_verifier", "")), code["cc"]):
            return jsonify({"error": "invalid_grant", "error_description": "code, redirect_uri or PKCE verifier"}), 400
        profile = registry_profile(code["sub"])
        now = int(time.time())
        claims = {"iss": issuer(), "sub": code["sub"], "aud": client_id, "iat": now, "exp": now + TOKEN_SECONDS,
                  "so_dinh_danh": profile.citizen_id, "name": profile.full_name, "birthdate": profile.birth_date}
        if code.get("n"):
            claims["nonce"] = code["n"]
        access = _sign({"typ": "access", "sub": code["sub"], "exp": now + TOKEN_SECONDS})
        return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_SECONDS,
                        "id_token": _sign(claims), "scope": "openid profile"})

    @bp.get("/userinfo")
    def userinfo():
        header = request.headers.get("Authorization", "")
        try:
            access = _verify(header.removeprefix("Bearer ").strip(), "access")
        except (JoseError, ValueError):
            return jsonify({"error": "invalid_token"}), 401
        profile = registry_profile(access["sub"])
        return jsonify({"sub": access["sub"], "so_dinh_danh": profile.citizen_id, "name": profile.full_name,
                        "birthdate": profile.birth_date})

    return bp
