"""Moving a token: back to a step already passed (the leader sends a dossier back to the specialist), forward to a
step not reached (skipping the specialist, or a stuck service call), with a preview in words; the projections
follow (the old task leaves the inbox, the new one appears), variables stay, and the instance goes on normally.
Unsupported moves are refused with the reason; only operators move tokens, with a reason."""
from __future__ import annotations

import json

import pytest

from engine import audit, db, external_tasks, instances, modification, queries, user_tasks
from engine.errors import BadInput, Forbidden, InstanceNotActive
from engine.models import Dossier
from engine.runtime import Actor
from tests.bpmn_builder import end, external, flow, linear, process, script, start, user_task
from tests.conftest import deploy_files
from tests.engine.test_dossier_actions import dossier  # noqa: F401  (the fixture)

OPERATOR = Actor("phan-tich-1", frozenset({"analyst"}), operator=True)
REASON = "Lãnh đạo yêu cầu thẩm định lại"


def run_workers(factory, *topics):
    for topic in topics:
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {"signature_valid": True})


def complete(factory, instance_id, element, group, form):
    with db.transaction(factory) as session:
        (task,) = [t for t in queries.user_tasks(session, instance_id=instance_id) if t["taskDefinitionKey"] == element]
        user_tasks.complete(session, task["id"], Actor("x", frozenset({group})), form)


def waiting(factory, instance_id):
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, instance_id)
    return sorted([t["taskDefinitionKey"] for t in detail["userTasks"]]
                  + [t["activityId"] for t in detail["externalTasks"]])


def at_leader(factory, instance_id):
    complete(factory, instance_id, "tiep_nhan", "mot-cua", {"quyet_dinh": "tiep_nhan"})
    run_workers(factory, "document", "notify")
    complete(factory, instance_id, "tham_dinh", "chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đủ điều kiện"})
    assert waiting(factory, instance_id) == ["phe_duyet"]


def test_the_leader_sends_a_dossier_back_to_the_specialist_and_it_goes_on(factory, dossier):  # noqa: F811
    _, iid = dossier
    at_leader(factory, iid)
    with db.transaction(factory) as session:
        plan = modification.preview_move(session, iid, "phe_duyet", "tham_dinh")
    assert (plan.kind, plan.source.id, plan.target.id, plan.reached_before) == ("back", "phe_duyet", "tham_dinh", True)
    assert [e.id for e in plan.cancelled] == ["phe_duyet"] and "de_xuat" in plan.variables
    words = " ".join(plan.sentences())
    assert "Quay lại Thẩm định, đề xuất kết quả (tham_dinh)" in words and "de_xuat" in words
    assert waiting(factory, iid) == ["phe_duyet"]  # a preview changes nothing
    with db.transaction(factory) as session:
        modification.move(session, iid, "phe_duyet", "tham_dinh", OPERATOR, REASON)
    assert waiting(factory, iid) == ["tham_dinh"]
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
        (logged,) = audit.listing(session, action="instance_modify")
    (task,) = detail["userTasks"]
    assert task["candidateGroups"] == ["chuyen-vien"] and detail["variables"]["y_kien_tham_dinh"] == "Đủ điều kiện"
    (event,) = [h for h in detail["history"] if h["kind"] == "instance_modified"]
    assert event["userId"] == "phan-tich-1" and event["details"] == {
        "from": "phe_duyet", "to": "tham_dinh", "move": "back", "reason": REASON}
    assert [h["activityId"] for h in detail["history"] if h["kind"] == "activity_cancelled"][-1] == "phe_duyet"
    assert logged["targetId"] == iid and logged["reason"] == REASON and logged["details"]["to"] == "tham_dinh"
    complete(factory, iid, "tham_dinh", "chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đã thẩm định lại"})
    complete(factory, iid, "phe_duyet", "lanh-dao", {"y_kien_lanh_dao": "dong_y"})
    run_workers(factory, "document", "notify")
    assert waiting(factory, iid) == ["tra_ket_qua"]
    complete(factory, iid, "tra_ket_qua", "mot-cua", {"hinh_thuc_tra": "truc_tuyen"})
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["status"] == "completed"
        assert session.get(Dossier, iid).status == 10


def test_skipping_forward_activates_a_step_not_reached_and_cancels_the_token(factory, dossier):  # noqa: F811
    _, iid = dossier
    complete(factory, iid, "tiep_nhan", "mot-cua", {"quyet_dinh": "tiep_nhan"})
    run_workers(factory, "document", "notify")
    with db.transaction(factory) as session:
        plan = modification.preview_move(session, iid, "tham_dinh", "phe_duyet")
    assert (plan.kind, plan.reached_before, [e.id for e in plan.cancelled]) == ("forward", False, ["tham_dinh"])
    assert "chưa từng đến bước này" in " ".join(plan.sentences())
    with db.transaction(factory) as session:
        modification.move(session, iid, "tham_dinh", "phe_duyet", OPERATOR, "Chuyên viên đã thẩm định trên giấy")
    assert waiting(factory, iid) == ["phe_duyet"]
    with db.transaction(factory) as session:
        history = queries.instance_detail(session, iid)["history"]
    assert [h["activityId"] for h in history if h["kind"] == "activity_cancelled"][-1] == "tham_dinh"
    complete(factory, iid, "phe_duyet", "lanh-dao", {"y_kien_lanh_dao": "dong_y", "de_xuat": "cap"})
    run_workers(factory, "document", "notify")
    assert waiting(factory, iid) == ["tra_ket_qua"]


def test_a_token_moves_from_a_stuck_service_call_to_the_step_after_it_and_back(factory, dossier):  # noqa: F811
    _, iid = dossier
    complete(factory, iid, "tiep_nhan", "mot-cua", {"quyet_dinh": "tiep_nhan"})
    run_workers(factory, "document", "notify")
    complete(factory, iid, "tham_dinh", "chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đủ điều kiện"})
    complete(factory, iid, "phe_duyet", "lanh-dao", {"y_kien_lanh_dao": "dong_y"})
    assert waiting(factory, iid) == ["ban_hanh_ket_qua"]  # the document service has not answered
    with db.transaction(factory) as session:
        modification.move(session, iid, "ban_hanh_ket_qua", "tra_ket_qua", OPERATOR, "Đã cấp giấy bản giấy tại quầy")
    assert waiting(factory, iid) == ["tra_ket_qua"]
    with db.transaction(factory) as session:
        modification.move(session, iid, "tra_ket_qua", "ban_hanh_ket_qua", OPERATOR, "Cần cấp bản điện tử")
    assert waiting(factory, iid) == ["ban_hanh_ket_qua"]  # a service task moved to runs: its worker gets it
    run_workers(factory, "document", "notify")
    assert waiting(factory, iid) == ["tra_ket_qua"]


BOUNDARIES = process("\n".join([
    linear(start(), external("goi"), user_task("duyet"), end()),
    '<bpmn:boundaryEvent id="loi" attachedToRef="goi"><bpmn:errorEventDefinition/></bpmn:boundaryEvent>',
    '<bpmn:boundaryEvent id="het_han" attachedToRef="duyet"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
    end("ket_thuc_loi")[1], end("ket_thuc_han")[1], flow("f_loi", "loi", "ket_thuc_loi"),
    flow("f_han", "het_han", "ket_thuc_han")]))


def test_boundary_events_leave_and_come_with_the_element_they_are_attached_to(factory):
    deploy_files(factory, [("p.bpmn", BOUNDARIES)])
    with db.transaction(factory) as session:
        iid = instances.start(session, OPERATOR, "p", {}).row.id
    with db.transaction(factory) as session:
        plan = modification.preview_move(session, iid, "goi", "duyet")
        assert [e.id for e in plan.cancelled] == ["goi", "loi"]
        modification.move(session, iid, "goi", "duyet", OPERATOR, "Dịch vụ ngừng hoạt động")
    assert waiting(factory, iid) == ["duyet"]
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["nextTimerAt"] is not None  # the target's timer runs
        assert {e.id for e in modification.choices(session, iid)["from"]} == {"duyet", "het_han"}
        modification.move(session, iid, "duyet", "goi", OPERATOR, "Dịch vụ hoạt động lại")
    assert waiting(factory, iid) == ["goi"]
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["nextTimerAt"] is None
    run_workers(factory, "work")
    assert waiting(factory, iid) == ["duyet"]


def test_moves_that_are_not_supported_are_refused_with_the_reason(factory, dossier):  # noqa: F811
    _, iid = dossier
    with db.transaction(factory) as session:
        with pytest.raises(BadInput, match="Không có token nào ở phe_duyet; token đang ở: tiep_nhan"):
            modification.preview_move(session, iid, "phe_duyet", "tham_dinh")
        with pytest.raises(BadInput, match="Không kích hoạt trực tiếp được.*gw_ket_qua"):
            modification.preview_move(session, iid, "tiep_nhan", "gw_ket_qua")
        with pytest.raises(BadInput, match="không có phần tử khong_co"):
            modification.preview_move(session, iid, "tiep_nhan", "khong_co")
        with pytest.raises(BadInput, match="phạm vi khác"):
            modification.preview_move(session, iid, "tiep_nhan", "ky_xin_loi")
        with pytest.raises(BadInput, match="trùng"):
            modification.preview_move(session, iid, "tiep_nhan", "tiep_nhan")
        with pytest.raises(Forbidden):
            modification.move(session, iid, "tiep_nhan", "tham_dinh", Actor("can-bo-1", frozenset({"mot-cua"})), REASON)
        with pytest.raises(BadInput, match="lý do"):
            modification.move(session, iid, "tiep_nhan", "tham_dinh", OPERATOR, "  ab ")
    with db.transaction(factory) as session:
        instances.suspend(session, iid, OPERATOR, "Chờ xác minh")
    with db.transaction(factory) as session:
        with pytest.raises(InstanceNotActive):
            modification.move(session, iid, "tiep_nhan", "tham_dinh", OPERATOR, REASON)
    assert waiting(factory, iid) == ["tiep_nhan"]


def test_a_failed_element_goes_back_to_the_step_before_and_its_incident_is_resolved(factory):
    deploy_files(factory, [("chia.bpmn", process(linear(start(), user_task("nhap"), script("chia", "kq = 10 / so"),
                                                        user_task("xem"), end()), process_id="chia_so"))])
    with db.transaction(factory) as session:
        iid = instances.start(session, OPERATOR, "chia_so", {"so": 0}).row.id
    complete(factory, iid, "nhap", "staff", {})
    with db.transaction(factory) as session:
        assert queries.instance(session, iid)["openIncidents"] == 1
        assert [e.id for e in modification.choices(session, iid)["from"]] == ["chia"]
        with pytest.raises(BadInput, match="đang lỗi"):
            modification.preview_move(session, iid, "chia", "xem")
        modification.move(session, iid, "chia", "nhap", OPERATOR, "Nhập lại số chia")
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert detail["openIncidents"] == 0 and all(i["resolvedAt"] for i in detail["incidents"])
    assert waiting(factory, iid) == ["nhap"]
    complete(factory, iid, "nhap", "staff", {"so": 4})
    assert waiting(factory, iid) == ["xem"]


def test_moving_to_an_end_event_ends_the_instance(factory):
    deploy_files(factory, [("p.bpmn", process(linear(start(), user_task("a"), user_task("b"), end("xong"))))])
    with db.transaction(factory) as session:
        iid = instances.start(session, OPERATOR, "p", {"x": 1}).row.id
    with db.transaction(factory) as session:
        assert [e.id for e in modification.choices(session, iid)["to"]] == ["start", "a", "b", "xong"]
        modification.move(session, iid, "a", "xong", OPERATOR, "Công dân rút hồ sơ bằng văn bản")
    with db.transaction(factory) as session:
        detail = queries.instance_detail(session, iid)
    assert detail["status"] == "completed" and detail["userTasks"] == [] and detail["variables"] == {"x": 1}
    assert json.loads(json.dumps(detail["history"][-1]))["kind"] == "instance_completed"
