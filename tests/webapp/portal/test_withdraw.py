"""Withdrawing a dossier: only its owner, only before the result, with a confirmation; the procedure's withdrawal
path tells the citizen and ends the dossier with status 7."""
from __future__ import annotations

import pytest

from engine import db, deployment, external_tasks, queries
from tests.conftest import FORMS, PROCESSES
from tests.webapp.portal.test_dossier_pages import OTHER, OWNER, apply, csrf, sign_in


@pytest.fixture
def dossiers(factory, client):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    return apply(factory, OWNER), apply(factory, OTHER)


def detail(factory, code):
    with db.transaction(factory) as session:
        (instance,) = [i for i in queries.instances(session) if i["businessKey"] == code]
        return queries.instance_detail(session, instance["id"])


def test_the_owner_withdraws_with_a_reason_and_the_dossier_ends_withdrawn(client, factory, dossiers):
    mine, _ = dossiers
    sign_in(client)
    assert f"/ho-so/{mine}/rut" in client.get(f"/ho-so/{mine}").get_data(as_text=True)
    page = client.get(f"/ho-so/{mine}/rut").get_data(as_text=True)
    assert "không thể tiếp tục" in page and "Lý do rút hồ sơ" in page
    answer = client.post(f"/ho-so/{mine}/rut", data={"csrf_token": csrf(client, f"/ho-so/{mine}/rut"),
                                                     "ly_do": "Đã làm thủ tục ở nơi khác"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/ho-so/{mine}")
    assert detail(factory, mine)["variables"]["ly_do_rut_ho_so"] == "Đã làm thủ tục ở nơi khác"
    with db.transaction(factory) as session:  # the notify worker tells the citizen
        (task,) = external_tasks.fetch_and_lock(session, "w", {"notify": 60000}, 10)
        external_tasks.complete(session, task.id, "w", {})
    found = detail(factory, mine)
    assert found["status"] == "completed" and found["dossier"]["status"] == 7
    html = client.get(f"/ho-so/{mine}").get_data(as_text=True)
    assert f"/ho-so/{mine}/rut" not in html
    assert client.get(f"/ho-so/{mine}/rut").status_code == 302  # nothing left to withdraw


def test_a_too_long_reason_is_an_error_that_keeps_what_was_typed(client, factory, dossiers):
    mine, _ = dossiers
    sign_in(client)
    reason = "Lý do " * 100
    answer = client.post(f"/ho-so/{mine}/rut", data={"csrf_token": csrf(client, f"/ho-so/{mine}/rut"), "ly_do": reason})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "không được quá 500 ký tự" in html and reason.strip() in html
    assert detail(factory, mine)["status"] == "active"


def test_another_citizens_dossier_cannot_be_withdrawn(client, factory, dossiers):
    _, theirs = dossiers
    sign_in(client)
    assert client.get(f"/ho-so/{theirs}/rut").status_code == 404
    answer = client.post(f"/ho-so/{theirs}/rut", data={"csrf_token": csrf(client), "ly_do": ""})
    assert answer.status_code == 404 and detail(factory, theirs)["status"] == "active"
