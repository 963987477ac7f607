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
