"""What officers do besides completing a task: one supplement request per dossier unless a leader allows more,
handing a task to a colleague of its group with a reason, forwarding a dossier to another agency, comments —
and the tracking card that shows every hand-over."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import (accounts, comments, db, deployment, dossier_actions, external_tasks, inbox, queries,
                    tracking_card, user_tasks)
from engine.errors import BadInput, Forbidden, SupplementLimitReached
from engine.models import Dossier
from engine.office_models import Agency
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import BIRTH, VN, at_intake, officer

COMMUNE, JUSTICE = "000.00.00.H56", "000.00.16.H56"
DESK = Actor("can-bo-1", frozenset({"mot-cua"}))
CITIZEN = Actor("001099012345", frozenset({"cong-dan"}))
LEADER = Actor("lanh-dao-1", frozenset({"lanh-dao"}))
MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
SUPPLEMENT = {"quyet_dinh": "bo_sung", "giay_to_thieu": ["Giấy chứng sinh bản gốc"]}


@pytest.fixture
def dossier(factory):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
        for name, agency in (("can-bo-1", COMMUNE), ("can-bo-2", COMMUNE), ("can-bo-3", JUSTICE)):
            accounts.add(session, name, "mat-khau-dai", groups=["mot-cua"], agency=agency)
        accounts.add(session, "chuyen-vien-1", "mat-khau-dai", groups=["chuyen-vien"], agency=COMMUNE)
        session.add_all([Agency(code=COMMUNE, name="UBND xã A", disabled=False, created_at=MONDAY),
                         Agency(code=JUSTICE, name="Sở Tư pháp", disabled=False, created_at=MONDAY)])
    code = at_intake(factory, "dang_ky_khai_sinh", BIRTH, COMMUNE, MONDAY)
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=code)
    return code, instance["id"]


def open_task(factory, code, group="mot-cua"):
    with db.transaction(factory) as session:
        return next(t for t in queries.user_tasks(session) if t["businessKey"] == code and group in t["candidateGroups"])


def run_workers(factory, *topics):
    for topic in topics:
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {"signature_valid": True})


def request_and_answer_supplement(factory, code):
    with db.transaction(factory) as session:
        user_tasks.complete(session, open_task(factory, code)["id"], DESK, SUPPLEMENT)
    run_workers(factory, "document", "notify")
    with db.transaction(factory) as session:
        user_tasks.complete(session, open_task(factory, code, "cong-dan")["id"], CITIZEN,
                            {"giay_to_bo_sung": [{"ten": "Giấy chứng sinh", "tep": "gcs.pdf"}]})
    run_workers(factory, "esign-verify")


def test_a_second_supplement_request_needs_a_leaders_permission(factory, dossier):
    code, instance_id = dossier
    request_and_answer_supplement(factory, code)
    second = open_task(factory, code)
    with pytest.raises(SupplementLimitReached, match="chỉ yêu cầu bổ sung một lần"):
        with db.transaction(factory) as session:
            user_tasks.complete(session, second["id"], DESK, SUPPLEMENT)
    with db.transaction(factory) as session:  # nothing was lost: the task still waits, the count is still one
        assert open_task(factory, code)["id"] == second["id"]
        assert session.get(Dossier, instance_id).supplement_requests == 1
        with pytest.raises(Forbidden):
            dossier_actions.allow_another_supplement(session, instance_id, DESK, "Công dân nộp thiếu", "lanh-dao")
        with pytest.raises(BadInput, match="lý do"):
            dossier_actions.allow_another_supplement(session, instance_id, LEADER, "", "lanh-dao")
    with db.transaction(factory) as session:
        dossier_actions.allow_another_supplement(session, instance_id, LEADER, "Giấy chứng sinh bị mờ", "lanh-dao")
    with db.transaction(factory) as session:
        user_tasks.complete(session, second["id"], DESK, SUPPLEMENT)
    run_workers(factory, "document", "notify")
    with db.transaction(factory) as session:
        row = session.get(Dossier, instance_id)
        assert (row.supplement_requests, row.supplements_allowed, row.status) == (2, 2, 5)
        story = queries.instance_detail(session, instance_id)["history"]
    allowed = [h for h in story if h["kind"] == "supplement_allowed"]
    assert allowed and allowed[0]["userId"] == "lanh-dao-1" and allowed[0]["details"]["reason"] == "Giấy chứng sinh bị mờ"


def test_accepting_or_refusing_is_not_counted_as_a_supplement_request(factory, dossier):
    code, instance_id = dossier
    with db.transaction(factory) as session:
        user_tasks.complete(session, open_task(factory, code)["id"], DESK, {"quyet_dinh": "tiep_nhan"})
        assert session.get(Dossier, instance_id).supplement_requests == 0


def test_a_task_goes_to_a_colleague_of_its_group_and_agency_with_a_reason(factory, dossier):
    code, instance_id = dossier
    task = open_task(factory, code)
    with db.transaction(factory) as session:
        user_tasks.claim(session, task["id"], DESK)
    for to_user, reason, message in (("can-bo-3", "Nghỉ phép", "không thuộc cơ quan"),
                                     ("chuyen-vien-1", "Nghỉ phép", "không thuộc nhóm"),
                                     ("khong-co", "Nghỉ phép", "Không có cán bộ"),
                                     ("can-bo-2", "", "lý do")):
        with pytest.raises(BadInput, match=message):
            with db.transaction(factory) as session:
                user_tasks.reassign(session, task["id"], DESK, to_user, reason)
    with pytest.raises(Forbidden):  # only the one who has it hands it on
        with db.transaction(factory) as session:
            user_tasks.reassign(session, task["id"], Actor("can-bo-2", frozenset({"mot-cua"})), "can-bo-2", "Tôi làm")
    with db.transaction(factory) as session:
        user_tasks.reassign(session, task["id"], DESK, "can-bo-2", "Nghỉ phép chiều nay")
    with db.transaction(factory) as session:
        assert queries.user_task(session, task["id"])["assignee"] == "can-bo-2"
        card = tracking_card.tracking_card(session, instance_id)
    handed = [r for r in card if r["note"] and r["note"].startswith("Chuyển người xử lý")]
    assert handed and (handed[0]["sender"], handed[0]["receiver"]) == ("can-bo-1", "can-bo-2")
    assert "Nghỉ phép chiều nay" in handed[0]["note"]


def test_forwarding_moves_the_dossier_to_the_other_agencys_inbox(factory, dossier):
    code, instance_id = dossier
    task = open_task(factory, code)
    with db.transaction(factory) as session:
        user_tasks.claim(session, task["id"], DESK)
        with pytest.raises(BadInput, match="Không có cơ quan"):
            dossier_actions.forward(session, instance_id, "999.99.99.X00", DESK, "Không thuộc thẩm quyền")
        with pytest.raises(BadInput, match="đang thuộc"):
            dossier_actions.forward(session, instance_id, COMMUNE, DESK, "Không thuộc thẩm quyền")
    with db.transaction(factory) as session:
        dossier_actions.forward(session, instance_id, JUSTICE, DESK, "Thuộc thẩm quyền của Sở Tư pháp")
    with db.transaction(factory) as session:
        ours = inbox.tasks(session, officer(COMMUNE))["items"]
        theirs = inbox.tasks(session, officer(JUSTICE, name="can-bo-3"))["items"]
        card = tracking_card.tracking_card(session, instance_id)
    assert ours == [] and [(t["dossierCode"], t["assignee"]) for t in theirs] == [(code, None)]
    forwarded = [r for r in card if r["step"] == "Chuyển liên thông"]
    assert forwarded[0]["receiver"] == JUSTICE and forwarded[0]["note"] == "Thuộc thẩm quyền của Sở Tư pháp"


def test_the_tracking_card_shows_each_hand_over_and_whether_it_was_on_time(factory, dossier):
    code, instance_id = dossier
    task = open_task(factory, code)
    with time_machine.travel(MONDAY + dt.timedelta(hours=8, minutes=30), tick=False):  # 4 working hours were given
        with db.transaction(factory) as session:
            user_tasks.complete(session, task["id"], DESK, {"quyet_dinh": "tiep_nhan"})
    run_workers(factory, "document", "notify")
    with db.transaction(factory) as session:
        card = tracking_card.tracking_card(session, instance_id)
    intake, review = [r for r in card if r["step"] in ("Kiểm tra, tiếp nhận hồ sơ", "Thẩm định, đề xuất kết quả")]
    assert (intake["sender"], intake["receiver"]) == (tracking_card.CITIZEN, "can-bo-1")
    assert intake["receivedAt"] < intake["dueAt"] < intake["handedOnAt"] and intake["result"] == tracking_card.LATE
    assert intake["resultLabel"] == "Quá hạn"
    assert review["sender"] == "can-bo-1" and review["receiver"] == "chuyen-vien"
    assert review["result"] == tracking_card.OPEN and review["handedOnAt"] is None


def test_judging_a_step_against_its_due_time():
    due = dt.datetime(2026, 12, 2, 17, 0, tzinfo=VN)  # a Wednesday
    assert tracking_card.judge(None, due) == tracking_card.OPEN
    assert tracking_card.judge(due - dt.timedelta(days=2), due) == tracking_card.EARLY
    assert tracking_card.judge(due - dt.timedelta(hours=1), due) == tracking_card.ON_TIME
    assert tracking_card.judge(due + dt.timedelta(minutes=1), due) == tracking_card.LATE
    assert tracking_card.judge(due, None) == tracking_card.ON_TIME


def test_comments_are_kept_in_order_and_refused_when_empty_or_too_long(factory, dossier):
    _, instance_id = dossier
    with db.transaction(factory) as session:
        comments.add(session, instance_id, "can-bo-1", "  Anh xem giúp giấy chứng sinh  ")
        comments.add(session, instance_id, "chuyen-vien-1", "Đã xem, hợp lệ")
        for body in ("   ", "x" * (comments.MAX_LENGTH + 1)):
            with pytest.raises(BadInput):
                comments.add(session, instance_id, "can-bo-1", body)
    with db.transaction(factory) as session:
        listed = comments.listing(session, instance_id)
    assert [(c["author"], c["body"]) for c in listed] == [("can-bo-1", "Anh xem giúp giấy chứng sinh"),
                                                          ("chuyen-vien-1", "Đã xem, hợp lệ")]


def test_an_end_is_written_to_history_once_even_when_the_clock_stands_still(factory, dossier):
    _, instance_id = dossier  # at_intake ran every command at one frozen instant
    with db.transaction(factory) as session:
        ends = [h["taskId"] for h in queries.instance_detail(session, instance_id)["history"]
                if h["kind"] == "activity_completed"]
    assert ends and len(ends) == len(set(ends))
