"""A tiny OpenID Connect provider for tests, standing for a province's single sign-on: discovery, a JWKS, the
authorization endpoint (it "signs in" whoever the test names, as a provider would after its own login form) and
the token endpoint, which checks the client's secret, the redirect URI, the PKCE verifier (S256) and that a code
is redeemed once, then returns an RS256 ID token with the nonce. Served over real HTTP by the test."""
from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "motcua-can-bo"
CLIENT_SECRET = "bi-mat-cua-tinh"


class Provider:
    """The provider's state: its key, the claims of the person who signs in next, and the codes issued."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "tinh-1", "use": "sig", "alg": "RS256"})
        self.claims: dict = {}  # what the next ID token says about the person
        self.nonce_override: str | None = None  # to send a token for another sign-in
        self.codes: dict[str, dict] = {}
        self.redeemed: list[str] = []
        self.app = self._app()

    def _app(self) -> Flask:
        app = Flask(__name__)

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = request.host_url.rstrip("/")
            return jsonify({"issuer": base, "authorization_endpoint": f"{base}/authorize",
                            "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
                            "response_types_supported": ["code"], "code_challenge_methods_supported": ["S256"],
                            "id_token_signing_alg_values_supported": ["RS256"]})

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [self.key.as_dict(private=False)]})

        @app.get("/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code" \
                    or args.get("code_challenge_method") != "S256" or "openid" not in args.get("scope", "").split():
                return "invalid request", 400
            code = secrets.token_urlsafe(24)
            self.codes[code] = {"challenge": args["code_challenge"], "redirect_uri": args["redirect_uri"],
                                "nonce": args.get("nonce"), "claims": dict(self.claims)}
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args.get('state', '')})}")

        @app.post("/token")
        def token():
            form = request.form
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return jsonify({"error": "invalid_client"}), 401
            grant = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri") or grant["challenge"] != challenge:
                return jsonify({"error": "invalid_grant"}), 400
            self.redeemed.append(form["code"])
            now = int(time.time())
            claims = {"iss": request.host_url.rstrip("/"), "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                      "nonce": self.nonce_override or grant["nonce"], **grant["claims"]}
            return jsonify({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                            "id_token": jwt.encode({"alg": "RS256", "kid": "tinh-1"}, claims, self.key)})

        return app
