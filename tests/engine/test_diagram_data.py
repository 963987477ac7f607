"""What the console's diagrams show, from real birth-registration dossiers: tokens and open incidents per
element, the path one dossier took (through a supplement loop) and where it waits, and the median and p90
time at each element, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from engine import db, deployment, diagram_data, external_tasks, instances, messages, queries, user_tasks
from engine.errors import BadInput, NotFound
from engine.models import HistoryEvent, ProcessInstance
from tests.bpmn_builder import end, flow, process, script, start
from tests.conftest import FORMS, PROCESSES, deploy_files
from tests.engine.test_event_gateway import GATEWAY
from tests.engine.test_dossier_actions import CITIZEN, COMMUNE, DESK, SUPPLEMENT
from tests.engine.test_inbox import BIRTH, VN, at_intake

DEFINITION = "dang_ky_khai_sinh:1"
MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def births(factory):
    """Birth registration deployed; returns a function that brings a dossier to the intake check."""
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)

    def intake(when: dt.datetime = MONDAY) -> tuple[str, str]:
        code = at_intake(factory, "dang_ky_khai_sinh", BIRTH, COMMUNE, when)
        with db.transaction(factory) as session:
            (instance,) = queries.instances(session, business_key=code)
        return code, instance["id"]
    return intake


def task_of(factory, code: str, group: str = "mot-cua") -> str:
    with db.transaction(factory) as session:
        return next(t["id"] for t in queries.user_tasks(session)
                    if t["businessKey"] == code and group in t["candidateGroups"])


def complete(factory, code: str, when: dt.datetime, variables: dict, actor=DESK, group: str = "mot-cua") -> None:
    with time_machine.travel(when, tick=False):
        task_id = task_of(factory, code, group)
        with db.transaction(factory) as session:
            user_tasks.complete(session, task_id, actor, variables)


def work(factory, topic: str, when: dt.datetime, fail: str | None = None) -> None:
    """Every waiting external task of a topic done (or failed with no retries left) at ``when``."""
    with time_machine.travel(when, tick=False):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                if fail:
                    external_tasks.failure(session, task.id, "w", fail, retries=0)
                else:
                    external_tasks.complete(session, task.id, "w", {"signature_valid": True})


def test_counts_show_waiting_tokens_and_open_incidents_per_element(factory, births):
    births()
    births()
    code, instance_id = births()
    complete(factory, code, MONDAY + HOUR, {"quyet_dinh": "tiep_nhan"})
    with db.transaction(factory) as session:
        # the dossier-withdrawal and due-soon subscriptions of event subprocesses listen; no token waits there
        assert diagram_data.definition_counts(session, DEFINITION) == {
            "tiep_nhan": {"active": 2, "incidents": 0}, "phieu_tiep_nhan": {"active": 1, "incidents": 0}}
    work(factory, "document", MONDAY + 2 * HOUR, fail="Máy chủ văn bản không trả lời")
    with db.transaction(factory) as session:
        counts = diagram_data.definition_counts(session, DEFINITION)
        path = diagram_data.instance_path(session, instance_id)
        with pytest.raises(NotFound):
            diagram_data.definition_counts(session, "dang_ky_khai_sinh:9")
    assert counts["phieu_tiep_nhan"] == {"active": 1, "incidents": 1}
    assert path.waiting == {"phieu_tiep_nhan": 1} and path.incidents == {"phieu_tiep_nhan": 1}
    assert path.overlays()["phieu_tiep_nhan"] == {"highlight": "waiting", "active": 1, "incidents": 1}


def test_an_instance_path_shows_its_loop_the_flows_taken_and_where_it_waits(factory, births):
    code, instance_id = births()
    complete(factory, code, MONDAY + HOUR, SUPPLEMENT)
    work(factory, "document", MONDAY + 2 * HOUR)
    work(factory, "notify", MONDAY + 2 * HOUR)
    complete(factory, code, MONDAY + 3 * HOUR, {"giay_to_bo_sung": [{"ten": "Giấy chứng sinh", "tep": "gcs.pdf"}]},
             actor=CITIZEN, group="cong-dan")
    work(factory, "esign-verify", MONDAY + 4 * HOUR)
    with db.transaction(factory) as session:
        path = diagram_data.instance_path(session, instance_id)
        with pytest.raises(NotFound):
            diagram_data.instance_path(session, "no-such-instance")
    assert path.waiting == {"tiep_nhan": 1} and path.incidents == {}
    assert path.completed["kiem_tra_chu_ky"] == 2 and path.completed["bo_sung"] == 1
    assert {"nop_ho_so", "tra_cuu_dan_cu", "gw_chu_ky", "gw_tiep_nhan", "yc_bo_sung_van_ban", "tb_bo_sung"} \
        <= set(path.completed)
    assert {"f_nop_tra_cuu", "f_tra_cuu_chu_ky", "f_chu_ky_gw", "f_chu_ky_hop_le", "f_tiep_nhan_gw", "f_yc_bo_sung",
            "f_bo_sung_tb", "f_tb_bo_sung_cd", "f_bo_sung_lai"} <= path.flows
    assert not {"f_tiep_nhan", "f_tu_choi", "f_chu_ky_loi", "f_tai_lieu_loi", "f_dinh_danh_sai"} & path.flows
    overlays = path.overlays()
    assert overlays["tiep_nhan"] == {"highlight": "waiting", "active": 1}
    assert overlays["f_bo_sung_lai"] == {"highlight": "path"} and overlays["bo_sung"] == {"highlight": "path"}
    assert "phieu_tiep_nhan" not in overlays


def test_the_heatmap_gives_median_and_p90_per_element_over_the_newest_completions(factory, births):
    dossiers = [births() for _ in range(4)]
    for (code, _), hours in zip(dossiers[:3], (1, 3, 2)):  # intake checks of 1 h, 3 h and 2 h, done in that order
        complete(factory, code, MONDAY + hours * HOUR, {"quyet_dinh": "tiep_nhan"})
    work(factory, "document", MONDAY + 3.5 * HOUR)
    with db.transaction(factory) as session:
        by_definition = diagram_data.durations(session, definition_id=DEFINITION)
        by_key = diagram_data.durations(session, process_key="dang_ky_khai_sinh")
        newest = diagram_data.durations(session, definition_id=DEFINITION, sample=1)
        for wrong in ({}, {"definition_id": DEFINITION, "process_key": "dang_ky_khai_sinh"}):
            with pytest.raises(BadInput):
                diagram_data.durations(session, **wrong)
    intake = by_definition["tiep_nhan"]
    assert (intake.count, intake.median_seconds, intake.p90_seconds) == (3, 7200, 10800)  # the 4th still waits
    documents = by_definition["phieu_tiep_nhan"]  # started when each check ended, all written at 11:30
    assert (documents.count, documents.median_seconds, documents.p90_seconds) == (3, 5400, 9000)
    assert "gw_tiep_nhan" not in by_definition, "a gateway passes at once: it has no time to show"
    assert by_key == by_definition
    assert newest["tiep_nhan"].count == 1 and newest["tiep_nhan"].median_seconds == 7200  # the last one done


def test_the_token_of_an_event_based_gateway_waits_on_the_gateway_until_an_event_fires(factory, operator):
    deploy_files(factory, [("gw.bpmn", GATEWAY)])
    with db.transaction(factory) as session:
        instance_id = instances.start(session, operator, "gw_proc", {}, "LLTP-7").row.id
    with db.transaction(factory) as session:  # a message subscription and a timer, one token: counted once
        assert diagram_data.definition_counts(session, "gw_proc:1") == {"gw": {"active": 1, "incidents": 0}}
        waiting = diagram_data.instance_path(session, instance_id)
    assert waiting.waiting == {"gw": 1} and waiting.flows == {"f0"}
    with db.transaction(factory) as session:
        messages.correlate(session, "police_records_reply", operator, business_key="LLTP-7", variables={})
    with db.transaction(factory) as session:
        assert diagram_data.definition_counts(session, "gw_proc:1") == {}
        done = diagram_data.instance_path(session, instance_id)
    assert done.waiting == {} and {"gw", "reply", "answered"} <= set(done.completed) and "late" not in done.completed
    assert done.flows == {"f0", "f1", "f3"}


SKIPPABLE = process("\n".join([  # an optional step: the gateway goes through "extra" or skips straight to the merge
    start()[1], '<bpmn:exclusiveGateway id="gw" default="f_extra"/>', script("extra", "checked = True")[1],
    '<bpmn:exclusiveGateway id="merge"/>', end()[1],
    flow("f_start", "start", "gw"), flow("f_extra", "gw", "extra"), flow("f_skip", "gw", "merge", "skip == True"),
    flow("f_back", "extra", "merge"), flow("f_end", "merge", "end")]), process_id="skippable")


@pytest.mark.parametrize("skip, taken", [(False, {"f_start", "f_extra", "f_back", "f_end"}),
                                         (True, {"f_start", "f_skip", "f_end"})])
def test_a_flow_is_taken_only_from_the_predecessor_that_led_to_its_target(factory, operator, skip, taken):
    deploy_files(factory, [("skippable.bpmn", SKIPPABLE)])
    with db.transaction(factory) as session:
        instance_id = instances.start(session, operator, "skippable", {"skip": skip}).row.id
    with db.transaction(factory) as session:
        assert diagram_data.instance_path(session, instance_id).flows == taken


def _waits(factory, definition_id: str, key: str, waits: list[tuple[str, float, float]]) -> None:
    """History rows of instances of ``definition_id``, each one task of ``tiep_nhan``: (name, hours after MONDAY
    it started, hours it took), written in list order (so the last is the newest completion)."""
    with db.transaction(factory) as session:
        for name, begun, took in waits:
            session.add(ProcessInstance(id=name, definition_id=definition_id, process_key=key, status="completed",
                                        state="{}", version_no=1, variables="{}", started_at=MONDAY,
                                        updated_at=MONDAY))
        session.flush()
        for name, begun, took in waits:
            for kind, hours in (("activity_started", begun), ("activity_completed", begun + took)):
                session.add(HistoryEvent(instance_id=name, at=MONDAY + hours * HOUR, kind=kind, activity_id="tiep_nhan",
                                         activity_type="userTask", task_id=f"task-{name}"))
            session.flush()


def test_the_heatmap_of_a_definition_leaves_out_other_definitions_sharing_its_elements(factory, births):
    """Certified copies share the intake step's id; their completions are newer and interleaved, and the walk
    through the index of completions passes over them to the definition's own. A completion reported twice counts
    once, from its first report; one written before its start (a clock set back) is left out."""
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "certified-copy"]), FORMS)
    copy = "chung_thuc_ban_sao_dien_tu"
    _waits(factory, DEFINITION, "dang_ky_khai_sinh", [("b1", 0, 1), ("b2", 0, 3)])
    _waits(factory, f"{copy}:1", copy, [("c1", 0, 10), ("c2", 0, 20)])
    _waits(factory, DEFINITION, "dang_ky_khai_sinh", [("b3", 1, 1), ("b4", 5, -1)])
    _waits(factory, f"{copy}:1", copy, [("c3", 0, 30)])
    with db.transaction(factory) as session:  # b2's completion reported again, later: it still took 3 h
        session.add(HistoryEvent(instance_id="b2", at=MONDAY + 9 * HOUR, kind="activity_completed",
                                 activity_id="tiep_nhan", task_id="task-b2"))
    with db.transaction(factory) as session:
        births_only = diagram_data.durations(session, definition_id=DEFINITION)["tiep_nhan"]
        newest_three = diagram_data.durations(session, definition_id=DEFINITION, sample=3)["tiep_nhan"]
        copies = diagram_data.durations(session, process_key=copy)["tiep_nhan"]
        assert diagram_data.durations(session, definition_id="dang_ky_khai_sinh:9") == {}
    assert (births_only.count, births_only.median_seconds, births_only.p90_seconds) == (3, 3600, 10800)
    # the newest three completions of births, past c3's: b2's second report (9 h after its start), b4's (left out)
    # and b3's (1 h)
    assert (newest_three.count, newest_three.median_seconds, newest_three.p90_seconds) == (2, 18000, 32400)
    assert (copies.count, copies.median_seconds, copies.p90_seconds) == (3, 72000, 108000)
