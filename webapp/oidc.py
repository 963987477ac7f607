"""OpenID Connect sign-in as a relying party: the authorization-code flow with PKCE (S256) and a nonce.

The citizens' portal (VNeID) and the officers' inbox (the province's provider) both use it. The provider's
discovery document names its endpoints; the ID token is checked against the provider's published keys
(signature, issuer, audience, expiry, nonce). What is pending between the redirect and the callback (state,
nonce, verifier, where to go next) is kept in the signed session under a key of the caller's choosing.
"""
from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import redirect, request, session, url_for
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response

HTTP_TIMEOUT = 10  # seconds, for each call to the provider
CACHE_SECONDS = 600  # how long a provider's discovery document and keys are reused
_DISCOVERY: dict[str, tuple[float, dict, dict]] = {}  # issuer → (fetched at, metadata, JWKS)
_LOCK = threading.Lock()


class Refused(Exception):
    """The sign-in cannot go on; the message (in Vietnamese) says why, for the person signing in."""

    @property
    def message(self) -> str:
        """Why, in words for the person signing in."""
        return str(self.args[0])


@dataclass(frozen=True)
class Client:
    """This app as registered at one provider."""

    issuer: str
    client_id: str
    client_secret: str
    callback: str  # the endpoint the provider sends the browser back to (its redirect URI)
    scope: str = "openid profile"

    @property
    def redirect_uri(self) -> str:
        """The callback's absolute address, as the browser reached this app."""
        return url_for(self.callback, _external=True)


def provider(issuer: str, refresh: bool = False) -> tuple[dict, dict]:
    """The provider's discovery document and keys (cached; ``refresh`` fetches them again)."""
    with _LOCK:
        cached = _DISCOVERY.get(issuer)
    if cached and not refresh and time.time() - cached[0] < CACHE_SECONDS:
        return cached[1], cached[2]
    try:
        metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=HTTP_TIMEOUT).json()
        keys = requests.get(metadata["jwks_uri"], timeout=HTTP_TIMEOUT).json()
    except (requests.RequestException, ValueError, KeyError):
        raise Refused("không kết nối được với máy chủ đăng nhập") from None
    with _LOCK:
        _DISCOVERY[issuer] = (time.time(), metadata, keys)
    return metadata, keys


def start(client: Client, key: str, **keep) -> Response:
    """Send the browser to the provider; the state, nonce, PKCE verifier and ``keep`` wait in ``session[key]``."""
    metadata, _ = provider(client.issuer)
    verifier, state, nonce = generate_token(64), generate_token(32), generate_token(32)
    session[key] = {"state": state, "nonce": nonce, "verifier": verifier, "issuer": client.issuer, **keep}
    query = {"response_type": "code", "client_id": client.client_id, "scope": client.scope,
             "redirect_uri": client.redirect_uri, "state": state, "nonce": nonce,
             "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    return redirect(f"{metadata['authorization_endpoint']}?{urlencode(query)}")


def finish(client: Client, key: str) -> tuple[dict, dict]:
    """The callback: check the state, redeem the code with the PKCE verifier, verify the ID token.

    Returns the token's claims and what :func:`start` kept; :class:`Refused` says what went wrong. The pending
    state is used up either way."""
    pending = session.pop(key, None)
    if not pending or not hmac.compare_digest(request.args.get("state", ""), pending["state"]):
        raise Refused("phiên đăng nhập đã hết hạn hoặc không khớp")
    if request.args.get("error") or not request.args.get("code"):
        raise Refused("nhà cung cấp định danh từ chối yêu cầu")
    metadata, keys = provider(pending["issuer"])
    try:
        answer = requests.post(metadata["token_endpoint"], timeout=HTTP_TIMEOUT, data={
            "grant_type": "authorization_code", "code": request.args["code"], "code_verifier": pending["verifier"],
            "redirect_uri": client.redirect_uri, "client_id": client.client_id,
            "client_secret": client.client_secret})
        token = answer.json().get("id_token") if answer.status_code == 200 else None
    except (requests.RequestException, ValueError, AttributeError):
        raise Refused("không kết nối được với máy chủ đăng nhập") from None
    if not token:
        raise Refused("mã xác thực không hợp lệ")
    try:
        return verified(token, keys, pending, client.client_id), pending
    except JoseError:
        _, keys = provider(pending["issuer"], refresh=True)  # the provider may have rotated its keys
    try:
        return verified(token, keys, pending, client.client_id), pending
    except JoseError:
        raise Refused("thẻ định danh (ID token) không hợp lệ") from None


def verified(token: str, keys: dict, pending: dict, client_id: str) -> dict:
    """The ID token's claims once its signature, issuer, audience, expiry and nonce are right; else JoseError."""
    claims = jwt.decode(token, KeySet.import_key_set(keys), algorithms=["RS256", "ES256"]).claims
    jwt.JWTClaimsRegistry(leeway=60, iss={"essential": True, "value": pending["issuer"]},
                          aud={"essential": True, "value": client_id}, exp={"essential": True},
                          nonce={"essential": True, "value": pending["nonce"]}).validate(claims)
    return dict(claims)
