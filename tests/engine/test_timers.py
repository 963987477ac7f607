"""Timers: due times on the instance, firing claimed in the database, exactly once with several schedulers."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from sqlalchemy import func, select

from engine import db, instances, queries, schema, timers, user_tasks
from engine.models import ExternalTask, HistoryEvent, ProcessInstance
from tests.bpmn_builder import end, flow, linear, process, start, user_task
from tests.conftest import PROCESSES, ROOT, deploy_files, wait_for
from engine import deployment

NOW = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.timezone.utc)


def timer(element_id: str, body: str) -> tuple[str, str]:
    return element_id, (f'<bpmn:intermediateCatchEvent id="{element_id}"><bpmn:timerEventDefinition>{body}'
                        f'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def started(factory, operator, xml, key="p", n=1):
    deploy_files(factory, [("p.bpmn", xml)])
    with db.transaction(factory) as s:
        return [instances.start(s, operator, key, {"i": i}).row.id for i in range(n)]


def instance(factory, iid):
    with db.transaction(factory) as s:
        return queries.instance_detail(s, iid)


def test_an_intermediate_timer_fires_once_when_due(factory, operator):
    xml = process(linear(start(), timer("wait", "<bpmn:timeDuration>PT1H</bpmn:timeDuration>"), end()))
    with time_machine.travel(NOW, tick=False):
        (iid,) = started(factory, operator, xml)
        assert instance(factory, iid)["nextTimerAt"] == "2026-11-27T03:00:00+00:00"
        assert timers.fire_due(factory) == []
    with time_machine.travel(NOW + dt.timedelta(minutes=59), tick=False):
        assert timers.fire_due(factory) == []
    with time_machine.travel(NOW + dt.timedelta(hours=5), tick=False):  # came due while nothing ran
        assert timers.fire_due(factory) == [iid]
        assert timers.fire_due(factory) == []
    detail = instance(factory, iid)
    assert detail["status"] == "completed" and detail["nextTimerAt"] is None


def test_the_review_escalation_fires_and_a_completed_task_cancels_its_timer(factory, sample, operator):
    with time_machine.travel(NOW, tick=False):
        with db.transaction(factory) as s:
            iids = [instances.start(s, operator, "sample_residence", {"citizen_id": "001099012345"}).row.id
                    for _ in range(2)]
        from workers import runner
        runner.run_once(factory, "w")
        assert all(instance(factory, i)["nextTimerAt"] == "2026-11-30T02:00:00+00:00" for i in iids)
        early = instance(factory, iids[1])["userTasks"][0]["id"]
        with db.transaction(factory) as s:
            user_tasks.complete(s, early, operator, {"review_decision": "accept"})
        assert instance(factory, iids[1])["nextTimerAt"] is None  # the boundary timer was cancelled
    with time_machine.travel(NOW + dt.timedelta(days=3, seconds=1), tick=False):
        assert timers.fire_due(factory) == [iids[0]]
    late = instance(factory, iids[0])
    kinds = [(h["kind"], h["activityId"]) for h in late["history"]]
    assert ("activity_completed", "Timer_review_overdue") in kinds
    assert {t["taskDefinitionKey"] for t in late["userTasks"]} >= {"Task_review"}  # non-interrupting


def test_a_cycle_timer_fires_each_time_then_stops(factory, operator):
    xml = process("\n".join([
        start()[1], user_task("work")[1], end()[1], user_task("remind", "leaders")[1], end("reminded")[1],
        '<bpmn:boundaryEvent id="every_day" attachedToRef="work" cancelActivity="false"><bpmn:timerEventDefinition>'
        '<bpmn:timeCycle>R2/P1D</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:boundaryEvent>',
        flow("f0", "start", "work"), flow("f1", "work", "end"), flow("f2", "every_day", "remind"),
        flow("f3", "remind", "reminded")]))
    with time_machine.travel(NOW, tick=False):
        (iid,) = started(factory, operator, xml)
    for day in (1, 2, 3, 4):
        with time_machine.travel(NOW + dt.timedelta(days=day, seconds=1), tick=False):
            timers.fire_due(factory)
    reminders = [t for t in instance(factory, iid)["userTasks"] if t["taskDefinitionKey"] == "remind"]
    assert len(reminders) == 2 and instance(factory, iid)["nextTimerAt"] is None


def test_expired_locks_are_released(factory, operator):
    from tests.bpmn_builder import external
    xml = process(linear(start(), external("job", "t"), end()))
    started(factory, operator, xml)
    from engine import external_tasks
    with db.transaction(factory) as s:
        external_tasks.fetch_and_lock(s, "dead-worker", {"t": 1000}, 1)
    with db.transaction(factory) as s:
        assert timers.release_expired_locks(s) == 0
    with time_machine.travel(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2), tick=False):
        with db.transaction(factory) as s:
            assert timers.release_expired_locks(s) == 1
    with db.transaction(factory) as s:
        assert s.scalars(select(ExternalTask.worker_id)).one() is None


@pytest.mark.postgresql
@pytest.mark.slow
def test_three_schedulers_fire_500_timers_exactly_once(pg_url, operator, tmp_path):
    engine = db.make_engine(pg_url)
    schema.upgrade(engine)
    factory = db.make_session_factory(engine)
    try:
        xml = process(linear(start(), timer("wait", "<bpmn:timeDuration>PT2S</bpmn:timeDuration>"), end()))
        deploy_files(factory, [("p.bpmn", xml)])
        with db.transaction(factory) as s:
            for i in range(500):
                instances.start(s, operator, "p", {"i": i})
            due = s.scalar(select(func.max(ProcessInstance.next_timer_at)))
        wait_for(lambda: dt.datetime.now(dt.timezone.utc) > due, timeout=30, message="the timers to come due")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        code = ("import sys; from engine import db, timers; e = db.make_engine(sys.argv[1]); "
                "print(len(timers.fire_due(db.make_session_factory(e)))); e.dispose()")
        procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  text=True) for _ in range(3)]
        counts = [int(p.communicate(timeout=240)[0]) for p in procs]
        assert sum(counts) == 500 and all(p.returncode == 0 for p in procs)
        with db.transaction(factory) as s:
            fired = s.execute(select(HistoryEvent.instance_id, func.count()).where(
                HistoryEvent.kind == "activity_completed", HistoryEvent.activity_id == "wait")
                .group_by(HistoryEvent.instance_id)).all()
            assert len(fired) == 500 and {n for _, n in fired} == {1}
            assert s.scalar(select(func.count()).select_from(ProcessInstance)
                            .where(ProcessInstance.status == "completed")) == 500
    finally:
        engine.dispose()


def test_working_day_deadlines_in_timers_and_due_dates(factory, operator):
    """A dossier received Friday 16:50 (Hà Nội time) with a 3-working-day review: the due date and the
    timer skip the weekend."""
    xml = process(linear(start(), user_task("review", "mot-cua", 'camunda:dueDate="working_days(3)"'),
                         end()) + "\n" + "")
    friday = dt.datetime(2026, 11, 27, 16, 50, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    with time_machine.travel(friday, tick=False):
        (iid,) = started(factory, operator, xml)
    (task,) = instance(factory, iid)["userTasks"]
    assert task["due"] == "2026-12-02T09:50:00+00:00"  # Wednesday 16:50 in Hà Nội
    waiting = process(linear(start(), timer("wait", "<bpmn:timeDate>working_hours(4)</bpmn:timeDate>"), end()),
                      process_id="q")
    deploy_files(factory, [("q.bpmn", waiting)])
    with time_machine.travel(friday, tick=False):
        with db.transaction(factory) as s:
            qid = instances.start(s, operator, "q").row.id
    # 10 minutes on Friday, then 3 h 50 from Monday 07:00: Monday 10:50 in Hà Nội
    assert instance(factory, qid)["nextTimerAt"] == "2026-11-30T03:50:00+00:00"


def timer_start(body: str, process_id: str = "daily") -> bytes:
    return process(linear(("begin", f'<bpmn:startEvent id="begin"><bpmn:timerEventDefinition>{body}'
                                    '</bpmn:timerEventDefinition></bpmn:startEvent>'),
                          user_task("report", "mot-cua"), end()), process_id=process_id)


def _instances(factory, key):
    with db.transaction(factory) as s:
        return queries.instances(s, key=key)


def test_a_cycle_timer_start_event_starts_one_instance_per_occurrence(factory, operator):
    xml = timer_start("<bpmn:timeCycle>R2/2026-11-30T07:00:00+07:00/P1D</bpmn:timeCycle>")
    with time_machine.travel(NOW, tick=False):
        deploy_files(factory, [("daily.bpmn", xml)])
        assert timers.start_scheduled(factory) == []
    monday = dt.datetime(2026, 11, 30, 0, 0, 1, tzinfo=dt.timezone.utc)  # 07:00:01 in Hà Nội
    with time_machine.travel(monday, tick=False):
        (first,) = timers.start_scheduled(factory)
        assert timers.start_scheduled(factory) == []
    (task,) = instance(factory, first)["userTasks"]
    assert task["taskDefinitionKey"] == "report"  # begins at once, not waiting for its own timer
    with time_machine.travel(monday + dt.timedelta(days=1), tick=False):
        assert len(timers.start_scheduled(factory)) == 1
    with time_machine.travel(monday + dt.timedelta(days=5), tick=False):
        assert timers.start_scheduled(factory) == []  # R2: two occurrences, then no more
    assert len(_instances(factory, "daily")) == 2


def test_a_new_version_replaces_the_schedule_and_a_duration_fires_once(factory, operator):
    with time_machine.travel(NOW, tick=False):
        deploy_files(factory, [("daily.bpmn", timer_start("<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"))])
        deploy_files(factory, [("daily.bpmn", timer_start("<bpmn:timeDuration>PT2H</bpmn:timeDuration>"))])
    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=1), tick=False):
        assert timers.start_scheduled(factory) == []  # the hourly cycle of version 1 is gone
    with time_machine.travel(NOW + dt.timedelta(hours=2, minutes=1), tick=False):
        (iid,) = timers.start_scheduled(factory)
    with time_machine.travel(NOW + dt.timedelta(days=2), tick=False):
        assert timers.start_scheduled(factory) == []
    assert instance(factory, iid)["definitionId"] == "daily:2"


def test_a_timer_that_came_due_while_the_instance_was_suspended_fires_when_it_is_resumed(factory, operator):
    # the scheduler passes a suspended instance by; the resume must fire what came due meanwhile, or nothing ever would
    xml = process(linear(start(), timer("wait", "<bpmn:timeDuration>PT1H</bpmn:timeDuration>"), user_task("after"),
                         end()))
    with time_machine.travel(NOW, tick=False):
        (iid,) = started(factory, operator, xml)
        with db.transaction(factory) as s:
            instances.suspend(s, iid, operator)
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        assert timers.fire_due(factory) == []
        with db.transaction(factory) as s:
            instances.resume(s, iid, operator)
        detail = instance(factory, iid)
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["after"] and detail["nextTimerAt"] is None
    assert ("activity_completed", "wait") in [(h["kind"], h["activityId"]) for h in detail["history"]]
