"""/engine-rest credentials: a remembered credential is trusted for a couple of seconds at most, so a change made by
another process (a new password, a re-issued token, a disabled account) applies within that time; with no such
window it applies at the next request."""
from __future__ import annotations

import types

import pytest

from engine import account_admin, accounts, db
from tests.conftest import basic
from webapp.rest import auth

URL = "/engine-rest/process-definition"


def change(factory, command, *args):
    """Change an account through an engine command in a session of its own, as ``motcua users …`` does."""
    with db.transaction(factory) as session:
        return command(session, *args)


@pytest.fixture(autouse=True)
def no_trust_window(request, monkeypatch):
    """Every request reads its account again (the window has its own test below)."""
    if "clock" not in request.fixturenames:
        monkeypatch.setattr(auth, "RECHECK_SECONDS", 0)


@pytest.fixture
def clock(monkeypatch):
    """The clock the remembered credentials are timed by, moved by the test."""
    now = [1000.0]
    monkeypatch.setattr(auth, "time", types.SimpleNamespace(monotonic=lambda: now[0]))
    return now


@pytest.fixture
def slow_checks(monkeypatch):
    """Count the slow password checks the app makes."""
    calls = []
    real = accounts.check_password

    def counted(stored, password):
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(accounts, "check_password", counted)
    return calls


def test_a_remembered_password_skips_the_slow_check(client, people, slow_checks):
    for _ in range(3):
        assert client.get(URL, headers=people["officer1"]).status_code == 200
    assert len(slow_checks) == 1


def test_a_new_password_applies_at_the_next_request_while_the_old_one_is_remembered(client, people, factory):
    assert client.get(URL, headers=people["officer1"]).status_code == 200
    change(factory, account_admin.set_password, "officer1", "a-new-password")
    assert client.get(URL, headers=people["officer1"]).status_code == 401
    assert client.get(URL, headers=basic("officer1", "a-new-password")).status_code == 200


def test_a_password_set_back_to_the_same_text_is_checked_again(client, people, factory, slow_checks):
    assert client.get(URL, headers=people["officer1"]).status_code == 200
    change(factory, account_admin.set_password, "officer1", "officer-pass")
    assert client.get(URL, headers=people["officer1"]).status_code == 200
    assert len(slow_checks) == 2


def test_a_disabled_account_is_refused_at_the_next_request_and_enabled_again(client, people, factory, bot):
    assert client.get(URL, headers=people["officer1"]).status_code == 200
    assert client.get(URL, headers=bot).status_code == 200
    change(factory, account_admin.set_disabled, "officer1", True)
    change(factory, account_admin.set_disabled, "worker-bot", True)
    assert client.get(URL, headers=people["officer1"]).status_code == 401
    assert client.get(URL, headers=bot).status_code == 401
    change(factory, account_admin.set_disabled, "officer1", False)
    assert client.get(URL, headers=people["officer1"]).status_code == 200


def test_a_reissued_token_ends_the_old_one_at_the_next_request(client, bot, factory):
    assert client.get(URL, headers=bot).status_code == 200
    new = change(factory, accounts.issue_token, "worker-bot")
    assert client.get(URL, headers=bot).status_code == 401
    assert client.get(URL, headers={"Authorization": f"Bearer {new}"}).status_code == 200



def test_a_remembered_credential_is_trusted_for_the_window_then_its_account_is_read_again(client, people, bot,
                                                                                         factory, clock, monkeypatch):
    reads = []
    real = accounts.by_password
    monkeypatch.setattr(accounts, "by_password", lambda *a, **k: reads.append(a[1]) or real(*a, **k))
    assert client.get(URL, headers=people["officer1"]).status_code == 200
    assert client.get(URL, headers=bot).status_code == 200
    assert client.get(URL, headers=people["officer1"]).status_code == 200 and reads == ["officer1"]  # no read
    change(factory, account_admin.set_disabled, "officer1", True)
    change(factory, account_admin.set_disabled, "worker-bot", True)
    clock[0] += auth.RECHECK_SECONDS / 2
    assert client.get(URL, headers=people["officer1"]).status_code == 200  # still within the window
    clock[0] += auth.RECHECK_SECONDS
    assert client.get(URL, headers=people["officer1"]).status_code == 401
    assert client.get(URL, headers=bot).status_code == 401
    assert auth.RECHECK_SECONDS <= 5  # "within a couple of seconds", as docs/operators.md says


def test_an_old_scrypt_hash_is_replaced_at_the_first_api_call_too(client, factory):
    # the inbox upgraded old hashes at sign-in; a machine account that only ever calls the API kept its scrypt hash
    import hashlib
    import secrets

    from engine.models import Account
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(b"cu-nhung-dai", salt=salt, dklen=32, n=2**14, r=8, p=1)
    with db.transaction(factory) as s:
        accounts.add(s, "he-thong-cu", "tam-thoi", groups=["admin"])
        s.get(Account, "he-thong-cu").password_hash = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"
    old = basic("he-thong-cu", "cu-nhung-dai")
    assert client.get("/engine-rest/process-definition", headers=old).status_code == 200  # a read: no commit of its own
    with db.transaction(factory) as s:
        assert s.get(Account, "he-thong-cu").password_hash.startswith("$argon2id$")
    assert client.get("/engine-rest/process-definition", headers=old).status_code == 200
