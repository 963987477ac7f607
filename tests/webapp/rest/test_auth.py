"""/engine-rest credentials: a remembered password check never outlives a change made by another process."""
from __future__ import annotations

import pytest

from engine import account_admin, accounts, db
from tests.conftest import basic

URL = "/engine-rest/process-definition"


def change(factory, command, *args):
    """Change an account through an engine command in a session of its own, as ``motcua users …`` does."""
    with db.transaction(factory) as session:
        return command(session, *args)


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

