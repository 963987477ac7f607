"""The officers' inbox: only their groups' (or their own) tasks, only their agency's dossiers, soonest due first,
with the time left in working days; another agency's task cannot be opened by its id."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import db, deployment, dossier_codes, external_tasks, inbox, instances
from engine.accounts import Principal
from engine.errors import NotFound
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES

VN = dt.timezone(dt.timedelta(hours=7))
BIRTH = {"citizen_id": "001099012345", "applicant_name": "Nguyễn Văn An", "quan_he_voi_tre": "cha",
         "ho_ten_tre": "Nguyễn Minh", "ngay_sinh_tre": "2026-11-20", "gioi_tinh_tre": "nam", "noi_sinh_tre": "BV tỉnh",
         "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam", "ho_ten_me": "Lê Thị Hoa", "document": "g.pdf",
         "so_ban_sao": 0, "procedure_name": "Đăng ký khai sinh"}
RECORD = {"citizen_id": "038095012345", "applicant_name": "Lê Văn Hùng", "procedure_name": "Cấp Phiếu lý lịch tư pháp"}


def at_intake(factory, key: str, variables: dict, agency: str, when: dt.datetime) -> str:
    """A dossier of ``key`` waiting at the one-stop desk's intake check; returns its code."""
    with time_machine.travel(when, tick=False):
        with db.transaction(factory) as session:
            code = dossier_codes.next_code(session, agency, when)
            instances.start(session, Actor("portal"), key, {**variables, "dossier_code": code}, code)
        for topic in ("population-lookup", "esign-verify"):
            with db.transaction(factory) as session:
                for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                    external_tasks.complete(session, task.id, "w", {"registry_found": True, "signature_valid": True})
    return code


@pytest.fixture
def desks(factory):
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "criminal-record"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
    birth = at_intake(factory, "dang_ky_khai_sinh", BIRTH, "000.00.00.H56", monday)
    record = at_intake(factory, "cap_phieu_lltp", RECORD, "000.00.16.H56", monday + dt.timedelta(hours=1))
    return birth, record


def officer(agency, groups=("mot-cua",), name="can-bo-1"):
    return Principal(name, frozenset(groups), False, agency)


def test_an_officer_sees_only_the_tasks_of_their_agency_and_groups(factory, desks):
    birth, record = desks
    now = dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN)
    with db.transaction(factory) as session:
        commune = inbox.tasks(session, officer("000.00.00.H56"), now=now)["items"]
        justice = inbox.tasks(session, officer("000.00.16.H56"), now=now)["items"]
        leader = inbox.tasks(session, officer("000.00.00.H56", ("lanh-dao",)), now=now)["items"]
        everyone = inbox.tasks(session, officer(None), now=now)["items"]
    assert [t["dossierCode"] for t in commune] == [birth] and commune[0]["name"] == "Kiểm tra, tiếp nhận hồ sơ"
    assert [t["dossierCode"] for t in justice] == [record]
    assert leader == []
    assert sorted(t["dossierCode"] for t in everyone) == sorted([birth, record])


def test_another_agencys_task_cannot_be_opened_by_its_id(factory, desks):
    with db.transaction(factory) as session:
        (theirs,) = inbox.tasks(session, officer("000.00.16.H56"))["items"]
        assert inbox.task_for(session, officer("000.00.16.H56"), theirs["id"]).id == theirs["id"]
        with pytest.raises(NotFound):
            inbox.task_for(session, officer("000.00.00.H56"), theirs["id"])


def test_due_time_is_said_in_working_time_and_overdue_tasks_can_be_filtered(factory, desks):
    birth, _ = desks
    with db.transaction(factory) as session:
        early = inbox.tasks(session, officer("000.00.00.H56"), now=dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN))
        late = inbox.tasks(session, officer("000.00.00.H56"), due="overdue",
                           now=dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN))
        mine = inbox.tasks(session, officer("000.00.00.H56"), assignee="me")
    (task,) = early["items"]
    assert task["dueState"] == "due_soon" and task["dueWords"].startswith("Còn 3.0 giờ làm việc")
    assert [t["dossierCode"] for t in late["items"]] == [birth] and late["items"][0]["dueState"] == "overdue"
    assert mine["items"] == []
