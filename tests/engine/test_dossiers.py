"""The dossier clock: due moments on the working calendar, pauses for supplements, the cut-off rule."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import calendar_functions, db, deployment, instances, queries, user_tasks
from engine.errors import DeploymentRefused
from tests.bpmn_builder import end, linear, process, start, user_task
from tests.conftest import PROCESSES, deploy_files

HANOI = dt.timezone(dt.timedelta(hours=7))
SUPPLEMENT = process(linear(
    start(), user_task("check", "mot-cua"),
    ("supplement", '<bpmn:userTask id="supplement" camunda:candidateGroups="cong-dan"><bpmn:extensionElements>'
                   '<camunda:properties><camunda:property name="dossier_clock" value="pause"/></camunda:properties>'
                   '</bpmn:extensionElements></bpmn:userTask>'),
    user_task("decide", "lanh-dao"), end()), process_id="supp")


def procedure(**deadline) -> bytes:
    body = ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in {"unit": "working_days", **deadline}.items())
    return f'code = "T.1"\nprocess_key = "supp"\ndeadline = {{ {body} }}\n'.encode()


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HANOI)


def dossier(factory, iid):
    with db.transaction(factory) as s:
        return queries.instance_detail(s, iid)["dossier"]


def walk(factory, operator, iid, moment, activity):
    with time_machine.travel(moment, tick=False):
        with db.transaction(factory) as s:
            (task,) = [t for t in queries.user_tasks(s, instance_id=iid) if t["taskDefinitionKey"] == activity]
            user_tasks.complete(s, task["id"], operator, {})


def test_the_sample_is_due_three_working_days_after_a_friday_evening(factory, sample, operator):
    with time_machine.travel(at(2026, 11, 27, 16, 50), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"}, "H-1").row.id
    clock = dossier(factory, iid)
    assert clock["dueAt"] == at(2026, 12, 2, 16, 50).astimezone(dt.timezone.utc).isoformat()
    assert (clock["code"], clock["channel"], clock["procedureCode"]) == ("H-1", "online", "MAU.000001")


@pytest.mark.parametrize("rule, due", [("pause", at(2026, 9, 3, 16, 0)), ("restart", at(2026, 9, 7, 9, 0))])
def test_a_supplement_pause_spanning_the_national_day_holiday(factory, operator, rule, due):
    deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", procedure(online=2, clock=rule))])
    with time_machine.travel(at(2026, 8, 27, 9, 0), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {}, "H-2").row.id
    assert dossier(factory, iid)["dueAt"] == at(2026, 9, 3, 9, 0).astimezone(dt.timezone.utc).isoformat()
    walk(factory, operator, iid, at(2026, 8, 28, 14, 0), "check")  # Friday afternoon: ask for a supplement
    assert dossier(factory, iid)["pausedAt"] == at(2026, 8, 28, 14, 0).astimezone(dt.timezone.utc).isoformat()
    walk(factory, operator, iid, at(2026, 9, 3, 9, 0), "supplement")  # after 31/8, 1/9 and 2/9 off
    clock = dossier(factory, iid)
    assert clock["pausedAt"] is None and len(clock["pauses"]) == 1
    assert clock["dueAt"] == due.astimezone(dt.timezone.utc).isoformat()
    walk(factory, operator, iid, at(2026, 9, 3, 10, 0), "decide")
    clock = dossier(factory, iid)
    assert clock["finishedAt"] is not None and clock["overdue"] is False


def test_a_pause_outside_office_hours_leaves_the_due_moment_where_it_was(factory, operator):
    # due at a close (17:00): a supplement asked and answered on a Saturday night uses no working time, so the
    # appointment on the citizen's slip stands (adding no time must not roll 17:00 on to the next opening)
    deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", procedure(online=2))])
    with time_machine.travel(at(2026, 11, 26, 20, 0), tick=False):  # Thursday evening: counts from Friday 07:00
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {}, "H-3").row.id
    due = at(2026, 11, 30, 17, 0).astimezone(dt.timezone.utc).isoformat()
    assert dossier(factory, iid)["dueAt"] == due
    walk(factory, operator, iid, at(2026, 11, 28, 3, 0), "check")
    walk(factory, operator, iid, at(2026, 11, 28, 3, 5), "supplement")
    clock = dossier(factory, iid)
    assert len(clock["pauses"]) == 1 and clock["dueAt"] == due


def test_received_after_the_cut_off_counts_from_the_next_working_morning(factory, operator):
    deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", procedure(online=3, cutoff="15:00"))])
    with time_machine.travel(at(2026, 11, 27, 15, 30), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {}).row.id
    expected = calendar_functions.calendar().add_working_days(at(2026, 11, 30, 7, 0), 3)
    assert dossier(factory, iid)["dueAt"] == expected.isoformat()
    assert expected > at(2026, 12, 2, 15, 30)  # later than counting from Friday


def test_counter_channel_deadline_and_overdue(factory, operator):
    deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", procedure(online=2, counter=5))])
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {"channel": "counter"}).row.id
    clock = dossier(factory, iid)
    assert clock["channel"] == "counter"
    # five working days from Monday 23/11: Tuesday 24/11 is Vietnamese Culture Day (a holiday from 2026)
    assert clock["dueAt"] == at(2026, 12, 1, 9, 0).astimezone(dt.timezone.utc).isoformat()
    with time_machine.travel(at(2026, 12, 1, 8, 59), tick=False):
        assert dossier(factory, iid)["overdue"] is False
    with time_machine.travel(at(2026, 12, 1, 9, 1), tick=False):
        assert dossier(factory, iid)["overdue"] is True


@pytest.mark.parametrize("text, message", [
    (b'deadline = { unit = "weeks", online = 2 }', "unit"),
    (b'deadline = { unit = "working_days", online = -1 }', "positive"),
    (b'deadline = { unit = "working_days", online = 2, cutoff = "3pm" }', "cutoff"),
    (b'deadline = { unit = "working_days", online = 2, clock = "stop" }', "clock"),
    (b'deadline = [', "TOML"),
])
def test_a_bad_deadline_is_refused_at_deploy(factory, text, message):
    with pytest.raises(DeploymentRefused, match=message):
        deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", b'process_key = "supp"\n' + text)])


LATE = process("\n".join([
    start()[1], user_task("review", "mot-cua")[1], end()[1],
    '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="review"/>',
    '<bpmn:sequenceFlow id="f1" sourceRef="review" targetRef="end"/>',
    '<bpmn:subProcess id="late" triggeredByEvent="true">'
    '<bpmn:startEvent id="due_soon" isInterrupting="false"><bpmn:messageEventDefinition messageRef="m_due"/>'
    '</bpmn:startEvent>'
    '<bpmn:userTask id="apology" name="Thư xin lỗi, hẹn lại ngày trả" camunda:candidateGroups="lanh-dao" '
    'camunda:formKey="apology-letter"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="dossier_clock" value="extend"/></camunda:properties></bpmn:extensionElements>'
    '</bpmn:userTask><bpmn:endEvent id="late_end"/>'
    '<bpmn:sequenceFlow id="g0" sourceRef="due_soon" targetRef="apology"/>'
    '<bpmn:sequenceFlow id="g1" sourceRef="apology" targetRef="late_end"/></bpmn:subProcess>']),
    process_id="late_p", extra='<bpmn:message id="m_due" name="dossier_due_soon"/>')


def test_a_dossier_about_to_be_late_asks_the_leader_for_the_apology_letter_once(factory, operator):
    from engine import timers
    deploy_files(factory, [("late.bpmn", LATE), ("procedure.toml",
                                                 b'code = "T.2"\nprocess_key = "late_p"\n'
                                                 b'deadline = { unit = "working_days", online = 1, warn_hours = 4 }\n')])
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):  # Monday; due Tuesday 09:00
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "late_p", {}, "H-9").row.id
    assert timers.warn_due_soon(factory, at(2026, 11, 30, 14, 0)) == []  # 5 working hours left
    assert timers.warn_due_soon(factory, at(2026, 11, 30, 15, 1)) == [iid]
    assert timers.warn_due_soon(factory, at(2026, 11, 30, 16, 0)) == []  # warned once
    with db.transaction(factory) as s:
        tasks = {t["taskDefinitionKey"]: t for t in queries.user_tasks(s, instance_id=iid)}
        detail = queries.instance_detail(s, iid)
    assert set(tasks) == {"review", "apology"} and tasks["apology"]["formKey"] == "apology-letter"
    assert detail["dossier"]["warnedAt"] and detail["variables"]["dossier_overdue"] is False
    # what Form 04 prints: the receipt and the appointment the dossier is about to miss
    assert detail["variables"]["received_at"] == at(2026, 11, 30, 9, 0).astimezone(dt.timezone.utc).isoformat()
    assert detail["variables"]["appointment_at"] == detail["dossier"]["dueAt"]
    with db.transaction(factory) as s:
        from engine.errors import FormValidationFailed
        with pytest.raises(FormValidationFailed):
            user_tasks.complete(s, tasks["apology"]["id"], operator, {"late_reason": "short"})
    with db.transaction(factory) as s:
        user_tasks.complete(s, tasks["apology"]["id"], operator, {
            "late_reason": "Chờ kết quả xác minh của cơ quan khác", "new_due_date": "2026-12-04",
            "apology_signed_by": "Nguyễn Văn Bình"})
        user_tasks.complete(s, tasks["review"]["id"], operator, {})
    with db.transaction(factory) as s:
        assert queries.instance(s, iid)["status"] == "completed"
        from engine import messages
        assert messages.waiting_instances(s, "dossier_due_soon") == []
        history = queries.instance_detail(s, iid)["history"]
    (extended,) = [h for h in history if h["kind"] == "dossier_extended"]
    assert extended["userId"] == operator.user_id
    assert extended["details"]["extendedDueAt"] == at(2026, 12, 4, 17, 0).isoformat()


def test_delivery_is_recorded_and_overdue_dossiers_are_listed(factory, operator):
    handover = process(linear(
        start(), user_task("decide", "lanh-dao"),
        ("hand_over", '<bpmn:userTask id="hand_over" camunda:candidateGroups="mot-cua"><bpmn:extensionElements>'
                      '<camunda:properties><camunda:property name="dossier_clock" value="delivered"/>'
                      '</camunda:properties></bpmn:extensionElements></bpmn:userTask>'), end()), process_id="supp")
    deploy_files(factory, [("supp.bpmn", handover), ("procedure.toml", procedure(online=1))])
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        with db.transaction(factory) as s:
            late = instances.start(s, operator, "supp", {}, "H-LATE").row.id
            on_time = instances.start(s, operator, "supp", {}, "H-OK").row.id
    walk(factory, operator, on_time, at(2026, 11, 30, 10, 0), "decide")
    walk(factory, operator, on_time, at(2026, 11, 30, 11, 0), "hand_over")
    clock = dossier(factory, on_time)
    assert clock["deliveredAt"] == at(2026, 11, 30, 11, 0).astimezone(dt.timezone.utc).isoformat()
    assert clock["finishedAt"] and clock["overdue"] is False
    with time_machine.travel(at(2026, 12, 2, 9, 0), tick=False):
        with db.transaction(factory) as s:
            assert [d["code"] for d in queries.dossier_list(s, overdue=True)] == ["H-LATE"]
            assert [d["code"] for d in queries.dossier_list(s)] == ["H-LATE"]
            assert {d["code"] for d in queries.dossier_list(s, running=False)} == {"H-LATE", "H-OK"}
    assert dossier(factory, late)["deliveredAt"] is None


def test_the_due_soon_path_can_remind_the_officer_through_notify(factory, operator):
    from engine import timers
    reminding = LATE.replace(
        b'<bpmn:sequenceFlow id="g0" sourceRef="due_soon" targetRef="apology"/>',
        b'<bpmn:scriptTask id="who" scriptFormat="python"><bpmn:script>notify_template = "officer_reminder"\n'
        b'notify_to = "canbo1@motcua.vn"</bpmn:script></bpmn:scriptTask>'
        b'<bpmn:serviceTask id="remind" camunda:type="external" camunda:topic="notify"/>'
        b'<bpmn:sequenceFlow id="g0" sourceRef="due_soon" targetRef="who"/>'
        b'<bpmn:sequenceFlow id="g2" sourceRef="who" targetRef="remind"/>'
        b'<bpmn:sequenceFlow id="g3" sourceRef="remind" targetRef="apology"/>')
    deploy_files(factory, [("late.bpmn", reminding), ("procedure.toml",
                                                     b'code = "T.3"\nprocess_key = "late_p"\n'
                                                     b'deadline = { unit = "working_days", online = 1 }\n')])
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "late_p", {"dossier_code": "H-10", "procedure_name": "Thử"}, "H-10").row.id
    assert timers.warn_due_soon(factory, at(2026, 11, 30, 15, 30)) == [iid]
    from workers import notify, runner
    sent = []
    outcomes = runner.run_once(factory, "w", {"notify": lambda v: sent.append(notify.render(v["notify_template"], v))
                                              or {"notify_sent": True}})
    assert [o.result for o in outcomes] == ["completed"]
    ((subject, text, _),) = sent
    assert subject == "Nhắc việc: hồ sơ H-10 sắp đến hạn giải quyết" and "Hạn trả kết quả: 09:00 ngày 01/12/2026" in text
    with db.transaction(factory) as s:
        assert {t["taskDefinitionKey"] for t in queries.user_tasks(s, instance_id=iid)} == {"review", "apology"}


def test_without_its_own_handler_a_late_dossier_starts_the_built_in_apology_process(factory, operator):
    from engine import timers
    from workers import runner
    deploy_files(factory, deployment.collect_files([PROCESSES / "dossier-apology"]))
    deploy_files(factory, [("supp.bpmn", SUPPLEMENT), ("procedure.toml", procedure(online=1))])
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {"procedure_name": "Thử", "applicant_email": "dan@example.vn"},
                                  "H-11").row.id
    assert timers.warn_due_soon(factory, at(2026, 11, 30, 15, 30)) == [iid]
    with db.transaction(factory) as s:
        (apology,) = queries.instances(s, key="dossier_apology")
    assert apology["businessKey"] == "H-11"
    seen = []
    runner.run_once(factory, "w", {"notify": lambda v: seen.append(v) or {"notify_sent": False}})
    (variables,) = seen
    # the citizen's address comes along for the apology mail; the reminder is addressed to the officers only
    assert variables["notify_template"] == "officer_reminder" and variables["notify_audience"] == "officers"
    assert variables["applicant_email"] == "dan@example.vn" and variables["dossier_instance_id"] == iid
    with db.transaction(factory) as s:
        (task,) = queries.user_tasks(s, instance_id=apology["id"])
    assert task["candidateGroups"] == ["lanh-dao"] and task["formKey"] == "apology-letter"
    assert task["due"] == at(2026, 12, 1, 9, 0).astimezone(dt.timezone.utc).isoformat()


def _marked(kind: str, element_id: str, status: int, groups: str = "mot-cua") -> tuple[str, str]:
    props = ('<bpmn:extensionElements><camunda:properties><camunda:property name="dossier_status" '
             f'value="{status}"/></camunda:properties></bpmn:extensionElements>')
    extra = f' camunda:candidateGroups="{groups}"' if kind == "userTask" else ""
    return element_id, f'<bpmn:{kind} id="{element_id}"{extra}>{props}</bpmn:{kind}>'


def test_the_dossier_status_follows_the_marked_elements_and_each_change_is_in_the_history(factory, operator):
    diagram = process(linear(start(), _marked("userTask", "review", 4), _marked("userTask", "supplement", 5, "cong-dan"),
                             _marked("endEvent", "done", 10)), process_id="supp")
    deploy_files(factory, [("supp.bpmn", diagram), ("procedure.toml", procedure(online=3))])
    with time_machine.travel(at(2026, 12, 1, 9, 0), tick=True):
        with db.transaction(factory) as s:
            iid = instances.start(s, operator, "supp", {}, "T-1").row.id
        assert dossier(factory, iid)["status"] == 4 and dossier(factory, iid)["statusLabel"] == "Đang xử lý"
        walk(factory, operator, iid, at(2026, 12, 1, 10, 0), "review")
        assert dossier(factory, iid)["status"] == 5
        walk(factory, operator, iid, at(2026, 12, 1, 11, 0), "supplement")
    clock = dossier(factory, iid)
    assert (clock["status"], clock["statusLabel"]) == (10, "Đã trả kết quả")
    with db.transaction(factory) as s:
        history = queries.instance_detail(s, iid)["history"]
    changes = [(h["details"]["status"], h["details"]["label"]) for h in history if h["kind"] == "dossier_status"]
    assert changes == [(4, "Đang xử lý"), (5, "Yêu cầu bổ sung giấy tờ"), (10, "Đã trả kết quả")]
