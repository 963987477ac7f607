"""The Decision 766 indicators on dossiers built with exact timestamps: the counts, ratios and points of May 2026 for
one agency and for all, the period's edges in Vietnam time, carried-over dossiers, the trend agreeing with the
period, the dossiers behind each figure, ratings per agency and officer, the configuration and the CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import pytest

from engine import db, deployment, indicator_export, indicator_periods, indicator_queries, indicator_ratings
from engine import indicators766
from engine.citizen_models import DossierRating
from engine.errors import BadInput
from engine.models import Dossier, HistoryEvent, ProcessDefinition, ProcessInstance
from tests.conftest import FORMS, PROCESSES

VN = dt.timezone(dt.timedelta(hours=7))
A, B = "000.00.00.H56", "000.00.16.H56"
BIRTH, COPY = "1.001193.000.00.00.H56", "2.000815.000.00.00.H56"  # toàn trình, một phần; both forms take a file
NOW = dt.datetime(2026, 6, 10, 9, 0, tzinfo=VN)
MAY = indicator_periods.parse("2026-05")


def vn(month, day, hour=9, minute=0, year=2026):
    return dt.datetime(year, month, day, hour, minute, tzinfo=VN)


def add(session, code, received, due, *, resolved=None, status=None, agency=A, channel="online", procedure=BIRTH,
        supplements=0, paused=None, fee=None, paid=None, extended=None):
    """A dossier row (and a stub instance row) with exactly these moments."""
    definition = session.query(ProcessDefinition).filter_by(key="dang_ky_khai_sinh").first()
    iid = str(uuid.uuid5(uuid.NAMESPACE_URL, code))
    session.add(ProcessInstance(id=iid, definition_id=definition.id, process_key=definition.key, business_key=code,
                                status="completed" if resolved else "active", state="{}", version_no=1,
                                variables="{}", started_at=received, updated_at=received))
    session.flush()
    session.add(Dossier(instance_id=iid, code=code, procedure_code=procedure, procedure_name=f"Thủ tục {procedure}",
                        channel=channel, deadline_unit="working_days", deadline_amount=5, clock_rule="pause",
                        submitted_at=received, received_at=received, due_at=due, pauses="[]", paused_at=paused,
                        finished_at=resolved, resolved_at=resolved,
                        resolved_days=(resolved - received).total_seconds() / 86400 if resolved else None,
                        status=status or (10 if resolved else 4), status_at=resolved or received, agency=agency,
                        supplement_requests=supplements, fee_requested_at=fee, paid_online_at=paid,
                        extended_due_at=extended, applicant_name=f"Người nộp {code}"))
    return iid


def rate(session, iid, code, agency, at, happy=True):
    """A rating, as engine.ratings.rate records it (an unhappy one marks its dossier)."""
    answers = {"tieu_chi_1": 2, "tieu_chi_3": 2, "tieu_chi_4": 2, "tieu_chi_5": 2, "tieu_chi_7": 2, "tieu_chi_10": 2,
               "tieu_chi_11": 2 if happy else 0}
    session.add(DossierRating(instance_id=iid, code=code, procedure_code=BIRTH, agency=agency,
                              answers=json.dumps(answers), score=sum(answers.values()), rated_at=at))
    if not happy:
        session.get(Dossier, iid).dissatisfied_at = at


def completed(session, iid, at, *officers):
    for k, officer in enumerate(officers):
        session.add(HistoryEvent(instance_id=iid, at=at + dt.timedelta(minutes=k), kind="task_completed",
                                 activity_id=f"buoc_{k}", task_id=str(uuid.uuid4()), user_id=officer))


@pytest.fixture
def may(factory):
    """The dossiers of the scenario, by code (see each line)."""
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "certified-copy"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
    with db.transaction(factory) as s:
        ids = {
            # finished in May on time, online, paid online, rated happy
            "A1": add(s, "A1", vn(5, 4), vn(5, 8, 17), resolved=vn(5, 7, 10), fee=vn(5, 4, 10), paid=vn(5, 4, 11)),
            # finished in May late, at the counter, fee asked and not paid online, rated unhappy
            "A2": add(s, "A2", vn(5, 5), vn(5, 10, 17), resolved=vn(5, 12), channel="counter", fee=vn(5, 5, 10)),
            # received in April, finished in May on time (carried over)
            "A3": add(s, "A3", vn(4, 28), vn(5, 3, 17), resolved=vn(5, 2, 10)),
            # open at the end of May, due in June: on time
            "A4": add(s, "A4", vn(5, 20), vn(6, 5, 17)),
            # open at the end of May, due before it: overdue; paid online
            "A5": add(s, "A5", vn(5, 10), vn(5, 25, 17), fee=vn(5, 10, 10), paid=vn(5, 11)),
            # waiting for a supplement since before its due moment: on time (the clock is paused)
            "A6": add(s, "A6", vn(5, 12), vn(5, 20, 17), status=5, paused=vn(5, 15), channel="counter",
                      procedure=COPY),
            # finished by its due moment but after two supplement requests: late
            "A7": add(s, "A7", vn(5, 13), vn(5, 30, 17), resolved=vn(5, 29), supplements=2, procedure=COPY),
            # received in February, still open and long overdue (the partial index of unresolved dossiers)
            "A8": add(s, "A8", vn(2, 1), vn(2, 20, 17)),
            # received in February, resolved in May, more than 60 days later (the partial index of long ones)
            "A9": add(s, "A9", vn(2, 10), vn(5, 5, 17), resolved=vn(5, 3)),
            # resolved in April: not May's
            "A10": add(s, "A10", vn(4, 25), vn(4, 30, 17), resolved=vn(4, 30)),
            # refused at intake and not yet accepted: never counted
            "A11": add(s, "A11", vn(5, 15), vn(5, 20), resolved=vn(5, 15, 10), status=3),
            "A12": add(s, "A12", vn(5, 16), vn(5, 21), status=1),
            # 23:30 on 31 May in Vietnam (16:30 UTC): May's; open, due in June
            "A13": add(s, "A13", vn(5, 31, 23, 30), vn(6, 3, 17)),
            # midnight of 1 June in Vietnam: June's
            "A14": add(s, "A14", vn(6, 1, 0, 0), vn(6, 4, 17)),
            # received in March within the 60-day look-back, resolved in May on time
            "A15": add(s, "A15", vn(3, 20), vn(5, 8, 17), resolved=vn(5, 5)),
            # another agency's, finished on time
            "B1": add(s, "B1", vn(5, 6), vn(5, 9, 17), resolved=vn(5, 8), agency=B),
        }
        s.flush()
        rate(s, ids["A1"], "A1", A, vn(5, 8))
        rate(s, ids["A2"], "A2", A, vn(5, 13), happy=False)
        rate(s, ids["A9"], "A9", A, vn(5, 4), happy=False)
        rate(s, ids["B1"], "B1", B, vn(5, 9))
        rate(s, ids["A10"], "A10", A, vn(4, 30, 12))  # given in April: not May's
        completed(s, ids["A1"], vn(5, 4, 10), "can-bo-1", "chuyen-vien-1", "can-bo-2")
        completed(s, ids["A2"], vn(5, 5, 10), "can-bo-1", "chuyen-vien-1", "can-bo-1")
        completed(s, ids["A9"], vn(2, 10, 10), "can-bo-2")
    return ids


def scope(session, agencies=(A,), config=None):
    return indicators766.scope_for(session, config or indicators766.load_config(), agencies)


def counts(factory, period=MAY, agencies=(A,), now=NOW):
    with db.transaction(factory) as session:
        return indicator_queries.counts(session, scope(session, agencies), period.start, min(period.end, now))


def codes(factory, name, period=MAY, agencies=(A,), offset=0, limit=None):
    with db.transaction(factory) as session:
        found = indicator_queries.dossiers(session, scope(session, agencies), period.start, min(period.end, NOW), name,
                                           offset, limit)
        return [d["code"] for d in found]


EXPECTED = {"processed": 11, "finished": 6, "finished_on_time": 4, "finished_late": 2, "open": 5, "open_on_time": 3,
            "open_overdue": 2, "many_supplements": 1, "dissatisfied": 2, "satisfied": 6, "received": 7,
            "received_online": 5, "eligible": 5, "eligible_online": 4, "with_files": 5, "fee_due": 3, "paid_online": 2}
BEHIND = {"finished_on_time": ["A9", "A15", "A3", "A1"], "finished_late": ["A2", "A7"],
          "open_on_time": ["A6", "A4", "A13"], "open_overdue": ["A8", "A5"], "dissatisfied": ["A9", "A2"], "paid_online": ["A1", "A5"],
          "eligible_online": ["A1", "A5", "A4", "A13"], "many_supplements": ["A7"]}


def test_the_counts_of_an_agencys_month(factory, may):
    found = counts(factory)
    assert {k: found[k] for k in EXPECTED} == EXPECTED
    days = sum((r - s).total_seconds() / 86400 for s, r in ((vn(5, 4), vn(5, 7, 10)), (vn(5, 5), vn(5, 12)),
                                                            (vn(4, 28), vn(5, 2, 10)), (vn(5, 13), vn(5, 29)),
                                                            (vn(2, 10), vn(5, 3)), (vn(3, 20), vn(5, 5))))
    assert found["resolved_days"] == pytest.approx(days)


def test_all_agencies_and_an_agency_without_dossiers(factory, may):
    everyone = counts(factory, agencies=None)
    assert everyone["processed"] == 12 and everyone["finished_on_time"] == 5 and everyone["received"] == 8
    assert counts(factory, agencies=("000.00.99.H56",))["processed"] == 0


def test_the_indicators_ratios_and_points(factory, may):
    config = indicators766.load_config()
    with db.transaction(factory) as session:
        found = indicators766.indicators(session, config, scope(session), MAY, NOW)
    by_code = {r.spec.code: r for r in found.results}
    progress = by_code["2.1"]
    assert (progress.numerator, progress.denominator) == (7, 11)
    assert progress.ratio == pytest.approx(7 / 11) and progress.points == pytest.approx(20 * 7 / 11)
    assert (by_code["3"].numerator, by_code["3"].denominator, by_code["3"].points) == (4, 5, 12)  # 80% ≥ 50%
    assert by_code["4"].points == pytest.approx(10 * 2 / 3)
    assert by_code["5.3"].ratio == pytest.approx(6 / 11) and by_code["5.3"].points == pytest.approx(6 / 11 / 0.9 * 6)
    assert by_code["6.2"].points == pytest.approx(5 / 7 / 0.8 * 4)
    assert by_code["2.2"].points is None and by_code["2.2"].mean == pytest.approx(found.counts["resolved_days"] / 6)
    assert by_code["1.4"].points is None and by_code["1.4"].ratio is None and not by_code["1.4"].spec.computable
    earned, maximum = found.total
    assert maximum == 20 + 12 + 10 + 6 + 4
    assert earned == pytest.approx(20 * 7 / 11 + 12 + 10 * 2 / 3 + 6 / 11 / 0.9 * 6 + 5 / 7 / 0.8 * 4)
    progress_group = next(g for g in found.groups if g["code"] == "2")
    assert progress_group["points"] == pytest.approx(20 * 7 / 11)
    assert next(g for g in found.groups if g["code"] == "1")["uncomputedMax"] == 18


def test_the_threshold_rule():
    assert indicators766.points(0.95, 0.9, 6) == 6 and indicators766.points(0.45, 0.9, 6) == pytest.approx(3)
    assert indicators766.points(0.5, 1.0, 20) == 10


def test_the_period_edges_are_vietnam_midnights(factory, may):
    assert "A13" in codes(factory, "received") and "A14" not in codes(factory, "received")
    june = indicator_periods.parse("2026-06")
    assert codes(factory, "received", period=june) == ["A14"]
    assert MAY.start == dt.datetime(2026, 4, 30, 17, 0, tzinfo=dt.timezone.utc)


def test_the_current_period_is_judged_now(factory, may):
    """On 20 May at noon A5 (due 25 May) is still on time; judged at the end of May it is overdue."""
    now = vn(5, 20, 12)
    assert "A5" in codes(factory, "open_overdue")
    with db.transaction(factory) as session:
        found = indicator_queries.dossiers(session, scope(session), MAY.start, now, "open_on_time", 0, None)
        assert "A5" in [d["code"] for d in found]


@pytest.mark.parametrize("name", sorted(BEHIND))
def test_the_dossiers_behind_a_figure(factory, may, name):
    assert codes(factory, name) == BEHIND[name]


def test_every_figure_lists_as_many_dossiers_as_it_counts(factory, may):
    found = counts(factory, agencies=None)
    for name in indicator_queries.COUNTS:
        assert len(codes(factory, name, agencies=None)) == found[name], name


def test_a_drill_down_is_paged(factory, may):
    assert codes(factory, "finished_on_time", offset=1, limit=2) == ["A15", "A3"]


def test_the_trend_agrees_with_each_months_figures(factory, may):
    with db.transaction(factory) as session:
        found = indicators766.dashboard(session, indicators766.load_config(), scope(session), MAY, NOW)
    months = found.trend
    assert [m["period"].key for m in months][-2:] == ["2026-04", "2026-05"] and len(months) == 12
    assert {k: found.counts[k] for k in EXPECTED} == EXPECTED  # the period, read from the same pass
    for month in months[-5:]:
        figures = counts(factory, month["period"])
        assert {k: month[k] for k in ("processed", "finished_on_time", "finished_late", "open_on_time",
                                      "open_overdue")} == {k: figures[k] for k in ("processed", "finished_on_time",
                                                                                      "finished_late", "open_on_time",
                                                                                      "open_overdue")}, month
    april = months[-2]
    assert april["processed"] == 5 and april["onTime"] == 4  # A3, A9, A10, A15 on time; A8 overdue
    assert months[0]["ratio"] is None  # June 2025: nothing


def test_the_appointment_can_be_the_extended_one(factory, may, tmp_path):
    with db.transaction(factory) as s:
        add(s, "A16", vn(5, 6), vn(5, 8, 17), resolved=vn(5, 11), extended=vn(5, 12, 17))
    assert "A16" in codes(factory, "finished_late")
    text = indicators766.DEFAULT_CONFIG.read_text(encoding="utf-8").replace('due = "appointment"', 'due = "extended"')
    (tmp_path / "766.toml").write_text(text, encoding="utf-8")
    config = indicators766.load_config(tmp_path / "766.toml")
    with db.transaction(factory) as session:
        found = indicator_queries.dossiers(session, scope(session, config=config), MAY.start, MAY.end,
                                           "finished_on_time", 0, None)
        assert "A16" in [d["code"] for d in found]


def test_weights_and_thresholds_come_from_the_configuration(tmp_path):
    text = indicators766.DEFAULT_CONFIG.read_text(encoding="utf-8")
    assert indicators766.load_config().indicators[4].code == "2.1"
    changed = text.replace("max = 20\nthreshold = 1.0", "max = 30\nthreshold = 0.8")
    (tmp_path / "a.toml").write_text(changed, encoding="utf-8")
    spec = next(s for s in indicators766.load_config(tmp_path / "a.toml").indicators if s.code == "2.1")
    assert (spec.max, spec.threshold) == (30, 0.8)
    result = indicators766.score(spec, {"finished_on_time": 6, "open_on_time": 1, "processed": 10})
    assert result.points == pytest.approx(30 * 0.7 / 0.8)
    (tmp_path / "b.toml").write_text(text.replace('"open_on_time"]', '"open_in_time"]'), encoding="utf-8")
    with pytest.raises(ValueError, match="open_in_time"):
        indicators766.load_config(tmp_path / "b.toml")


def test_ratings_per_agency_and_per_officer(factory, may):
    with db.transaction(factory) as session:
        agencies = indicator_ratings.by_agency(session, indicator_queries.Scope(), MAY.start, MAY.end)
        officers = indicator_ratings.by_officer(session, indicator_queries.Scope(agencies=(A,)), MAY.start, MAY.end)
    assert [(r["key"], r["ratings"], r["dissatisfied"]) for r in agencies] == [(A, 3, 2), (B, 1, 0)]
    assert agencies[0]["averageScore"] == pytest.approx((14 + 12 + 12) / 3)
    # can-bo-1 took in and handed over A2 (once), took in A1; can-bo-2 handed over A1 and alone did A9
    assert [(r["key"], r["ratings"], r["dissatisfied"]) for r in officers] == [("can-bo-1", 2, 1), ("can-bo-2", 2, 1)]


def test_the_csv_of_the_indicators_and_of_a_drill_down(factory, may):
    config = indicators766.load_config()
    with db.transaction(factory) as session:
        found = indicators766.indicators(session, config, scope(session), MAY, NOW)
        table = "".join(indicator_export.indicator_rows(found, "UBND xã"))
        listed = "".join(indicator_export.dossier_rows(indicator_queries.dossiers(
            session, scope(session), MAY.start, MAY.end, "finished_late", 0, None)))
    assert table.startswith("\ufeff") and listed.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(table[1:])))
    assert rows[0][:4] == ["Kỳ báo cáo", "Cơ quan", "Nhóm", "Mã chỉ số"]
    progress = next(r for r in rows if r[3] == "2.1")
    assert progress[0] == "Tháng 5/2026" and progress[6:9] == ["7", "11", "63.64"] and progress[11] == "12.73"
    assert next(r for r in rows if r[3] == "1.4")[13] == "không"
    dossiers = list(csv.reader(io.StringIO(listed[1:])))
    assert [r[0] for r in dossiers[1:]] == ["A2", "A7"]
    assert dossiers[1][5:10] == ["Trực tiếp", "Đã trả kết quả", "2026-05-05 09:00", "2026-05-10 17:00",
                                 "2026-05-12 09:00"]


def test_periods_in_words_and_mistakes():
    assert indicator_periods.parse("2026-Q2").label == "Quý 2/2026"
    assert indicator_periods.parse("2025").end == indicator_periods.parse("2026-01").start
    custom = indicator_periods.parse("2026-05-10..2026-05-12")
    assert (custom.first_day, custom.last_day) == (dt.date(2026, 5, 10), dt.date(2026, 5, 12))
    for wrong in ("2026-13", "2026-Q5", "tháng 5", "2026-05-12..2026-05-10", "1999"):
        with pytest.raises(BadInput):
            indicator_periods.parse(wrong)
    months = indicator_periods.trend_months(MAY.end)
    assert months[0].key == "2025-06" and months[-1].key == "2026-05"
    assert indicator_periods.choices(vn(1, 15))[1].key == "2025-12"
