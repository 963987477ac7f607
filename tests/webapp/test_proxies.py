"""Behind reverse proxies: the client's address, scheme and host come from the X-Forwarded-* headers of the
proxies the operator says are there (``MOTCUA_TRUSTED_PROXIES``), and from nobody else's."""
from __future__ import annotations

import dataclasses
import pytest

from engine import accounts, db
from tests.webapp.inbox.test_inbox_pages import sign_in
from webapp.inbox.auth import SIGN_INS


@pytest.fixture
def officer_account(factory):
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency="000.00.00.H56")


def _app(settings, factory, proxies: int):
    from webapp.app import create_app
    app = create_app(dataclasses.replace(settings, trusted_proxies=proxies), factory)
    app.config["TESTING"] = True
    return app


def _failed_sign_ins(app, count: int, forwarded_for: str) -> int:
    client = app.test_client()
    status = 0
    for _ in range(count):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
        status = sign_in(client, "can-bo-1", "sai").status_code
    return status


def test_without_trusted_proxies_a_forged_forwarded_address_does_not_escape_the_sign_in_limit(
        settings, factory, officer_account):
    app = _app(settings, factory, 0)
    for i in range(SIGN_INS):  # a new made-up address each time: all still count against the real one
        assert _failed_sign_ins(app, 1, f"198.51.100.{i}") == 401
    assert _failed_sign_ins(app, 1, "198.51.100.200") == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_sign_in_limit(settings, factory, officer_account):
    app = _app(settings, factory, 1)
    assert _failed_sign_ins(app, SIGN_INS + 1, "203.0.113.5") == 429
    other = app.test_client()
    other.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.6"  # another citizen's office behind the same proxy
    assert sign_in(other, "can-bo-1", "mat-khau-1").status_code == 302


def test_behind_a_trusted_proxy_the_addresses_given_out_use_the_scheme_and_host_the_citizen_used(settings, factory):
    # the VNeID stand-in's discovery document names its issuer as the browser reached it, as the OpenID Connect
    # redirect_uri does: behind a TLS-terminating proxy both must say https and the public host
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dichvucong.example.vn"}
    discovery = "/sandbox-vneid/.well-known/openid-configuration"
    trusted = _app(settings, factory, 1).test_client().get(discovery, headers=forwarded)
    assert trusted.get_json()["issuer"].startswith("https://dichvucong.example.vn/")
    untrusted = _app(settings, factory, 0).test_client().get(discovery, headers=forwarded)
    assert untrusted.get_json()["issuer"].startswith("http://localhost/")
