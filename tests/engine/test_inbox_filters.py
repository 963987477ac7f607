"""The inbox's filters (procedure, dossier status, due, assignee, dossier code), its orders (due, received,
procedure, code, either way), keyset pages that walk forward and back without gaps, "due soon" exact in SQL on
the working calendar, the capped count, and a forwarded dossier's task moving to the other agency's inbox."""
from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlalchemy import update

from engine import agencies, db, deployment, dossier_actions, dossiers, inbox, user_tasks
from engine.accounts import Principal
from engine.calendar_functions import calendar
from engine.errors import BadInput
from engine.models import UserTask
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import BIRTH, RECORD, VN, at_intake

COMMUNE, JUSTICE = "000.00.00.H56", "000.00.16.H56"
MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN)
HOUSEHOLD = {**yaml.safe_load((PROCESSES / "household-business" / "scenarios" / "defaults.yaml").read_text())
             ["start"]["form"], "channel": "online"}


def officer(groups=("mot-cua",), name="can-bo-1", agency=COMMUNE):
    return Principal(name, frozenset(groups), False, agency)


@pytest.fixture
def desk(factory):
    """Five dossiers at the commune's intake (three births, two household businesses, received an hour apart) and
    one at the justice department's; returns {code: task id} of the commune's, in the order received."""
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "household-business", "criminal-record"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
    codes = [at_intake(factory, "dang_ky_khai_sinh", BIRTH, COMMUNE, MONDAY + dt.timedelta(hours=h)) for h in (0, 1, 2)]
    codes += [at_intake(factory, "dang_ky_ho_kinh_doanh", HOUSEHOLD, COMMUNE,
                        MONDAY + dt.timedelta(hours=h)) for h in (3, 4)]
    at_intake(factory, "cap_phieu_lltp", RECORD, JUSTICE, MONDAY)
    with db.transaction(factory) as session:
        found = inbox.tasks(session, officer(), sort="received", now=NOW)["items"]
    assert [t["dossierCode"] for t in found] == codes
    return {t["dossierCode"]: t["id"] for t in found}


def codes_of(session, **kwargs) -> list[str]:
    return [t["dossierCode"] for t in inbox.tasks(session, kwargs.pop("principal", officer()), now=NOW,
                                                  **kwargs)["items"]]


def set_due(factory, dues: dict[str, dt.datetime | None]) -> None:
    with db.transaction(factory) as session:
        for task_id, due in dues.items():
            session.execute(update(UserTask).where(UserTask.id == task_id).values(due_at=due))


def test_filters_by_procedure_status_assignee_and_code(factory, desk):
    codes = list(desk)
    with db.transaction(factory) as session:
        user_tasks.claim(session, desk[codes[0]], Actor("can-bo-1", frozenset({"mot-cua"})))
        user_tasks.claim(session, desk[codes[3]], Actor("can-bo-2", frozenset({"mot-cua"})))
        instance = session.get(UserTask, desk[codes[1]]).instance_id
        dossiers.set_status(session, instance, 5, NOW)
    with db.transaction(factory) as session:
        assert set(codes_of(session, process_key="dang_ky_ho_kinh_doanh")) == set(codes[3:])
        assert codes_of(session, status=5) == [codes[1]]
        assert set(codes_of(session, status=1)) == set(codes) - {codes[1]}
        assert codes_of(session, assignee="me") == [codes[0]]
        assert codes_of(session, assignee="can-bo-2") == [codes[3]]
        assert set(codes_of(session, assignee="nobody")) == {codes[1], codes[2], codes[4]}
        assert codes_of(session, code=codes[2][-17:].lower()) == [codes[2]]  # part of the code, any case
        assert codes_of(session, code="%") == []  # a wildcard is a character like another
        assert codes_of(session, process_key="dang_ky_khai_sinh", assignee="nobody", status=1) == [codes[2]]
        assert codes_of(session, principal=officer(agency=JUSTICE), process_key="dang_ky_khai_sinh") == []
        with pytest.raises(BadInput):
            inbox.tasks(session, officer(), status=11)


def test_due_filters_split_the_inbox_in_three_on_the_working_calendar(factory, desk):
    ids = list(desk.values())
    until = inbox.due_soon_until(NOW)
    assert until == calendar().add_working_hours(NOW, 8)  # 9:00 Monday: 9:00 Tuesday, inside office hours
    set_due(factory, {ids[0]: NOW - dt.timedelta(minutes=1), ids[1]: NOW + dt.timedelta(minutes=1), ids[2]: until,
                      ids[3]: until + dt.timedelta(seconds=1), ids[4]: None})
    codes = list(desk)
    with db.transaction(factory) as session:
        assert codes_of(session, due="overdue") == [codes[0]]
        assert codes_of(session, due="due_soon") == [codes[1], codes[2]]
        assert codes_of(session, due="on_time") == [codes[3], codes[4]]
        states = {t["dossierCode"]: t["dueState"] for t in inbox.tasks(session, officer(), now=NOW)["items"]}
    assert states == {codes[0]: "overdue", codes[1]: "due_soon", codes[2]: "due_soon", codes[3]: "on_time",
                      codes[4]: "none"}


def test_due_soon_reaches_the_next_opening_when_a_working_day_ends_at_a_close(factory, desk):
    now = dt.datetime(2026, 11, 30, 17, 0, tzinfo=VN)  # Monday's close: 8 working hours end at Tuesday's close
    until = inbox.due_soon_until(now)
    assert until == dt.datetime(2026, 12, 2, 7, 0, tzinfo=VN)  # … and stay 8 until Wednesday opens
    ids, codes = list(desk.values()), list(desk)
    tuesday = dt.datetime(2026, 12, 1, 17, 0, tzinfo=VN)
    set_due(factory, {ids[0]: tuesday, ids[1]: tuesday + dt.timedelta(hours=4), ids[2]: until,
                      ids[3]: until + dt.timedelta(minutes=1), ids[4]: now})
    with db.transaction(factory) as session:
        soon = inbox.tasks(session, officer(), due="due_soon", now=now)["items"]
        every = inbox.tasks(session, officer(), now=now)["items"]
    assert [t["dossierCode"] for t in soon] == codes[:3]
    assert [t["dossierCode"] for t in every if t["dueState"] == "due_soon"] == codes[:3]


def test_due_soon_pages_are_full_and_exact(factory, desk):
    """The old over-fetch-then-drop gave short pages; in SQL every page but the last is full."""
    ids, codes = list(desk.values()), list(desk)
    set_due(factory, {ids[0]: NOW + dt.timedelta(days=9), ids[1]: NOW + dt.timedelta(hours=1),
                      ids[2]: NOW + dt.timedelta(days=8), ids[3]: NOW + dt.timedelta(hours=2),
                      ids[4]: NOW + dt.timedelta(hours=3)})
    with db.transaction(factory) as session:
        first = inbox.tasks(session, officer(), due="due_soon", now=NOW, limit=2)
        second = inbox.tasks(session, officer(), due="due_soon", now=NOW, limit=2, after=first["next"])
    assert [t["dossierCode"] for t in first["items"]] == [codes[1], codes[3]] and first["total"] == 3
    assert [t["dossierCode"] for t in second["items"]] == [codes[4]] and second["next"] is None


@pytest.mark.parametrize("sort", sorted(inbox.SORTS))
def test_every_order_pages_forward_and_back_without_gaps(factory, desk, sort):
    ids = list(desk.values())
    # two tasks share a due moment (the id breaks the tie), one has none (it comes last going up)
    set_due(factory, {ids[0]: NOW + dt.timedelta(hours=5), ids[1]: NOW + dt.timedelta(hours=2),
                      ids[2]: NOW + dt.timedelta(hours=5), ids[3]: None, ids[4]: NOW - dt.timedelta(hours=1)})
    with db.transaction(factory) as session:
        for descending in (False, True):
            whole = [t["id"] for t in inbox.tasks(session, officer(), sort=sort, descending=descending,
                                                  now=NOW)["items"]]
            pages, cursor = [], None
            while True:
                page = inbox.tasks(session, officer(), sort=sort, descending=descending, now=NOW, limit=2,
                                   after=cursor)
                pages.append([t["id"] for t in page["items"]])
                if not page["next"]:
                    break
                cursor = page["next"]
            assert sum(pages, []) == whole and [len(p) for p in pages] == [2, 2, 1]
            back, cursor = [pages[-1]], page["prev"]
            while cursor:
                page = inbox.tasks(session, officer(), sort=sort, descending=descending, now=NOW, limit=2,
                                   before=cursor)
                back.insert(0, [t["id"] for t in page["items"]])
                cursor = page["prev"]
            assert back == pages
        up = [t["id"] for t in inbox.tasks(session, officer(), sort=sort, now=NOW)["items"]]
        down = [t["id"] for t in inbox.tasks(session, officer(), sort=sort, descending=True, now=NOW)["items"]]
    assert down == up[::-1]


def test_each_order_sorts_by_its_column(factory, desk):
    ids, codes = list(desk.values()), list(desk)
    set_due(factory, {ids[0]: NOW + dt.timedelta(hours=5), ids[1]: NOW + dt.timedelta(hours=2), ids[2]: None,
                      ids[3]: NOW + dt.timedelta(hours=1), ids[4]: NOW + dt.timedelta(hours=3)})
    with db.transaction(factory) as session:
        assert codes_of(session) == [codes[3], codes[1], codes[4], codes[0], codes[2]]
        assert codes_of(session, sort="received") == codes
        assert codes_of(session, sort="received", descending=True) == codes[::-1]
        assert codes_of(session, sort="code") == sorted(codes)
        # by procedure (dang_ky_ho_kinh_doanh before dang_ky_khai_sinh), then soonest due
        assert codes_of(session, sort="procedure") == [codes[3], codes[4], codes[1], codes[0], codes[2]]
        with pytest.raises(BadInput):
            inbox.tasks(session, officer(), sort="citizen")


def test_a_cursor_of_another_order_or_a_mangled_one_is_refused(factory, desk):
    with db.transaction(factory) as session:
        cursor = inbox.tasks(session, officer(), now=NOW, limit=2)["next"]
        for bad in (dict(sort="code", after=cursor), dict(after="not-a-cursor"), dict(before=cursor + "x")):
            with pytest.raises(BadInput):
                inbox.tasks(session, officer(), now=NOW, **bad)


def test_the_count_stops_at_its_limit(factory, desk, monkeypatch):
    with db.transaction(factory) as session:
        assert inbox.count(session, officer(), NOW) == (5, False)
        assert inbox.count(session, officer(), NOW, process_key="dang_ky_ho_kinh_doanh") == (2, False)
        monkeypatch.setattr(inbox, "COUNT_LIMIT", 3)
        paged = inbox.tasks(session, officer(), now=NOW, limit=2)
        whole = inbox.tasks(session, officer(), now=NOW)  # a first page that holds them all counts them exactly
    assert (paged["total"], paged["more"], len(paged["items"])) == (3, True, 2)
    assert (whole["total"], whole["more"], len(whole["items"])) == (5, False, 5)


def test_a_forwarded_dossiers_task_moves_to_the_other_agencys_inbox(factory, desk):
    code = list(desk)[0]
    with db.transaction(factory) as session:
        agencies.add_agency(session, JUSTICE, "Sở Tư pháp")
        instance = session.get(UserTask, desk[code]).instance_id
        dossier_actions.forward(session, instance, JUSTICE, Actor("can-bo-1", frozenset({"mot-cua"})),
                                "Thuộc thẩm quyền của Sở")
    with db.transaction(factory) as session:
        assert code not in codes_of(session)
        assert code in codes_of(session, principal=officer(agency=JUSTICE))
        assert code in codes_of(session, principal=officer(agency=JUSTICE), sort="received")
        assert inbox.task_for(session, officer(agency=JUSTICE), desk[code]).id == desk[code]


def test_colleagues_are_enabled_people_of_the_agency_sharing_a_group(factory):
    from engine import accounts
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-mot", ["mot-cua"], agency=COMMUNE)
        accounts.add(session, "can-bo-2", "mat-khau-hai", ["mot-cua", "chuyen-vien"], agency=COMMUNE,
                     display_name="Trần Thị Hai")
        accounts.add(session, "lanh-dao-1", "mat-khau-ba", ["lanh-dao"], agency=COMMUNE)
        accounts.add(session, "tu-phap-1", "mat-khau-bon", ["mot-cua"], agency=JUSTICE)
        accounts.add(session, "bot", service=True, groups=["mot-cua"])
        assert inbox.colleagues(session, officer()) == [{"name": "can-bo-2", "displayName": "Trần Thị Hai"}]
