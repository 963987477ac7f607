"""An officer of one agency can neither see nor act on another agency's dossiers: not through the inbox's
addresses, and not through /engine-rest with their own credentials. Service accounts and administrators keep
the province-wide view the integrations need."""
from __future__ import annotations

import base64

import pytest

from engine import db, queries
from tests.webapp.inbox.test_inbox_pages import csrf, desk, sign_in, task_id  # noqa: F401  (desk: the fixture)


def basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def theirs(app, desk, factory):
    """(our dossier code, their dossier code, their task id, their instance id)."""
    birth, record = desk
    with db.transaction(factory) as session:
        (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == record]
    return birth, record, task["id"], task["processInstanceId"]


def test_no_inbox_address_reaches_another_agencys_task(app, theirs, factory):
    _, record, tid, _ = theirs
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-1")
    token = csrf(client, "/can-bo/")
    assert client.get(f"/can-bo/viec/{tid}").status_code == 404
    assert client.get(f"/can-bo/viec/{tid}/tai-lieu/document").status_code == 404
    for action, form in (("nhan", {}), ("tra-lai", {}), ("trao-doi", {"noi_dung": "xin chào"}),
                         ("chuyen-nguoi", {"nguoi_nhan": "can-bo-2", "ly_do_chuyen": "Thử chuyển"}),
                         ("lien-thong", {"co_quan": "000.00.00.H56", "ly_do_lien_thong": "Thử chuyển"}),
                         ("cho-phep-bo-sung", {"ly_do_cho_phep": "Thử cho phép"})):
        assert client.post(f"/can-bo/viec/{tid}/{action}", data={"csrf_token": token, **form}).status_code == 404, action
    refused = client.post(f"/can-bo/viec/{tid}", data={"csrf_token": token, "quyet_dinh": "tiep_nhan"})
    assert refused.status_code == 409 and "tiep_nhan" not in refused.get_data(as_text=True)
    with db.transaction(factory) as session:  # nothing happened to their dossier
        task = queries.user_task(session, tid)
        assert task["assignee"] is None
        assert [h["kind"] for h in queries.instance_detail(session, task["processInstanceId"])["history"]
                if h["kind"].startswith("task_") or h["kind"] == "dossier_forwarded"] == []


def test_engine_rest_shows_an_officer_only_their_agencys_dossiers(app, theirs):
    birth, record, tid, iid = theirs
    client = app.test_client()
    ours = basic("can-bo-1", "mat-khau-1")
    listed = client.get("/engine-rest/task?candidateGroup=mot-cua", headers=ours).get_json()
    assert [t["businessKey"] for t in listed] == [birth]
    assert client.get(f"/engine-rest/task/{tid}", headers=ours).status_code == 404
    assert client.get(f"/engine-rest/task/{tid}/form-variables", headers=ours).status_code == 404
    for action in ("claim", "unclaim", "complete"):
        assert client.post(f"/engine-rest/task/{tid}/{action}", json={}, headers=ours).status_code == 404, action
    assert client.get(f"/engine-rest/process-instance?businessKey={record}", headers=ours).get_json() == []
    assert client.get(f"/engine-rest/process-instance/{iid}", headers=ours).status_code == 404
    assert client.get(f"/engine-rest/process-instance/{iid}/variables", headers=ours).status_code == 404
    justice = basic("tu-phap-1", "mat-khau-3")  # their own officer sees it
    assert client.get(f"/engine-rest/task/{tid}", headers=justice).get_json()["businessKey"] == record
    assert client.get(f"/engine-rest/process-instance/{iid}/variables", headers=justice).status_code == 200
