"""The Decision 766 comparison of agencies, on the dossiers of May 2026 (tests/engine/test_indicators766.py) with a
tree of agencies: A with its child agencies B and C, D without dossiers, E disabled, and a dossier without an
agency. Every agency's counts agree with the dashboard's for that agency alone and come from one query; a parent's
row scores like the dashboard for it and its children together; sorting keeps children under their parent; the
CSV carries the same figures."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event

from engine import agencies, db, indicator_comparison, indicator_export, indicator_periods, indicator_queries
from engine import indicators766
from tests.engine.test_indicators766 import (A, B, COPY, EXPECTED, MAY, NOW, add, counts, may,  # noqa: F401
                                             scope, vn)

C, D, E = "000.00.17.H56", "000.00.20.H56", "000.00.30.H56"


@pytest.fixture
def tree(factory, may):  # noqa: F811
    """A above B and C; D and E alone (E disabled); C's two dossiers and one without an agency."""
    with db.transaction(factory) as s:
        agencies.add_agency(s, A, "Ủy ban nhân dân huyện Đông")
        agencies.add_agency(s, B, "Xã Bắc", A)
        agencies.add_agency(s, C, "Xã Nam", A)
        agencies.add_agency(s, D, "Ủy ban nhân dân huyện Tây")
        agencies.add_agency(s, E, "Xã đã sáp nhập")
        agencies.set_agency_disabled(s, E, True)
        # finished on time, online, of a procedure that takes files
        add(s, "C1", vn(5, 6), vn(5, 9, 17), resolved=vn(5, 8), agency=C)
        # finished late, at the counter
        add(s, "C2", vn(5, 7), vn(5, 9, 17), resolved=vn(5, 15), agency=C, channel="counter", procedure=COPY)
        # no agency: finished late
        add(s, "N1", vn(5, 8), vn(5, 10, 17), resolved=vn(5, 20), agency=None)


def compare(factory, agencies_=None, period=MAY):
    config = indicators766.load_config()
    with db.transaction(factory) as session:
        return indicator_comparison.compare(session, config, scope(session, agencies_), period, NOW)


def by_code(row):
    return {r.spec.code: r for r in row.results}


def test_every_agencys_counts_come_from_one_grouped_query_and_agree_with_the_dashboard(factory, tree):
    with db.transaction(factory) as session:
        per = indicator_queries.counts_by_agency(session, scope(session, None), MAY.start, MAY.end)
    assert set(per) == {A, B, C, None}
    assert {k: per[A][k] for k in EXPECTED} == EXPECTED
    for agency in (B, C):
        assert per[agency] == counts(factory, agencies=(agency,)), agency
    everyone = counts(factory, agencies=None)
    assert {k: sum(c[k] for c in per.values()) for k in everyone} == pytest.approx(everyone)
    assert (per[C]["processed"], per[C]["finished_on_time"], per[C]["finished_late"], per[C]["with_files"]) \
        == (2, 1, 1, 1)
    assert per[None]["finished_late"] == 1


def test_the_rows_form_the_tree_of_agencies(factory, tree):
    found = compare(factory)
    assert [(r.kind, r.code, r.depth) for r in found.ordered(indicator_comparison.NAME)] == [
        ("tree", A, 0), ("own", A, 1), ("agency", B, 1), ("agency", C, 1), ("agency", D, 0), ("none", None, 0)]
    top = found.rows[0]
    assert top.name == "Ủy ban nhân dân huyện Đông" and top.agencies == (A, B, C)
    assert E not in {r.code for r in found.ordered()}  # disabled, no dossiers
    d = next(r for r in found.rows if r.code == D)
    assert d.total == (0, 0) and d.share is None and all(r.points is None for r in d.results)
    assert [s.code for s in found.specs] == ["2.1", "2.2", "3", "4", "5.3", "6.2"]


def test_a_parents_row_adds_its_children_and_scores_like_the_dashboard_for_them_together(factory, tree):
    found = compare(factory)
    top = found.rows[0]
    progress = by_code(top)["2.1"]
    assert (progress.numerator, progress.denominator) == (7 + 1 + 1, 11 + 1 + 2)
    with db.transaction(factory) as session:
        together = indicators766.indicators(session, indicators766.load_config(), scope(session, (A, B, C)), MAY,
                                            NOW)
    assert top.counts == pytest.approx(together.counts)
    assert top.total == pytest.approx(together.total)
    own = next(r for r in top.children if r.kind == "own")
    assert {k: own.counts[k] for k in EXPECTED} == EXPECTED


def test_an_agencys_figures_and_total(factory, tree):
    found = compare(factory)
    c = next(r for r in found.rows[0].children if r.code == C)
    figures = by_code(c)
    assert figures["2.1"].ratio == pytest.approx(1 / 2) and figures["2.1"].points == pytest.approx(10)
    assert (figures["3"].numerator, figures["3"].denominator, figures["3"].points) == (1, 1, 12)
    assert figures["4"].points is None  # no fee asked
    assert figures["5.3"].points == pytest.approx(0.5 / 0.9 * 6)
    assert figures["6.2"].points == pytest.approx(0.5 / 0.8 * 4)
    assert figures["2.2"].mean == pytest.approx(((vn(5, 8) - vn(5, 6)) + (vn(5, 15) - vn(5, 7))).days / 2)
    assert c.total == pytest.approx((10 + 12 + 0.5 / 0.9 * 6 + 2.5, 42))
    b = next(r for r in found.rows[0].children if r.code == B)
    assert b.total == pytest.approx((42, 42)) and b.share == pytest.approx(1)


def test_the_total_row_is_every_agency_together(factory, tree):
    found = compare(factory)
    everyone = counts(factory, agencies=None)
    assert found.total.kind == "all" and found.total.counts == pytest.approx(everyone)
    assert found.total.counts["processed"] == 11 + 1 + 2 + 1


def test_sorting_keeps_children_under_their_parent_and_nothing_last(factory, tree):
    found = compare(factory)
    down = found.ordered("2.1", descending=True)  # A tree 9/14; B 1, A own 7/11, C 1/2; D nothing; no agency
    assert [(r.kind, r.code) for r in down] == [("tree", A), ("agency", B), ("own", A), ("agency", C),
                                                ("agency", D), ("none", None)]
    up = found.ordered("2.1")
    assert [(r.kind, r.code) for r in up] == [("tree", A), ("agency", C), ("own", A), ("agency", B), ("agency", D),
                                              ("none", None)]
    by_total = found.ordered(indicator_comparison.TOTAL, descending=True)
    assert [r.code for r in by_total][:2] == [A, B] and [r.code for r in by_total][-2:] == [D, None]
    assert set(indicator_comparison.sort_keys(indicators766.load_config())) == {"ten", "tong", "ty_le", "2.1", "2.2",
                                                                                "3", "4", "5.3", "6.2"}


def test_one_query_reads_the_dossiers_however_many_agencies(factory, tree):
    def statements():
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)
        with db.transaction(factory) as session:
            engine = session.get_bind()
            event.listen(engine, "before_cursor_execute", count)
            try:
                indicator_comparison.compare(session, indicators766.load_config(), scope(session, None), MAY, NOW)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return seen
    statements()  # the catalogue's caches filled
    few = statements()
    with db.transaction(factory) as s:
        for k in range(30):
            code = f"000.00.{40 + k}.H56"
            agencies.add_agency(s, code, f"Xã số {k}", A)
            add(s, f"X{k}", vn(5, 10), vn(5, 12, 17), resolved=vn(5, 11), agency=code)
    many = statements()
    assert len(many) == len(few)
    assert sum(" dossier" in s.lower().replace('"', "") and "from" in s.lower() and "group by" in s.lower()
               for s in many) == 1
    assert len(compare(factory).rows[0].children) == 2 + 30 + 1


def test_a_scope_of_one_agency_has_its_row_only_and_no_total(factory, tree):
    found = compare(factory, (B,))
    assert [(r.kind, r.code) for r in found.ordered()] == [("agency", B)] and found.total is None


def test_a_period_to_come_has_rows_without_figures(factory, tree):
    found = compare(factory, period=indicator_periods.parse("2027-01"))
    assert found.rows and all(r.counts["processed"] == 0 and r.total == (0, 0) for r in found.ordered())


def test_an_agency_with_its_children(factory, tree):
    with db.transaction(factory) as session:
        assert indicator_comparison.with_children(session, A) == tuple(sorted((A, B, C)))
        assert indicator_comparison.with_children(session, B) == (B,)


def test_the_comparison_as_csv(factory, tree):
    found = compare(factory)
    text = "".join(indicator_export.comparison_rows(found, found.ordered() + [found.total]))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    head = rows[0]
    assert head[:5] == ["Kỳ báo cáo", "Mã cơ quan", "Cơ quan", "Cấp", "Phạm vi"] and head[-3:] == [
        "Tổng điểm", "Điểm tối đa tính được", "Tỷ lệ điểm (%)"]
    assert head[5:9] == ["2.1 Tử số", "2.1 Mẫu số", "2.1 Tỷ lệ (%)", "2.1 Điểm"] and "2.2 Trung bình (ngày)" in head
    line = {r[1] + "/" + r[4]: dict(zip(head, r)) for r in rows[1:]}
    top = line[f"{A}/gồm đơn vị trực thuộc"]
    assert (top["2.1 Tử số"], top["2.1 Mẫu số"], top["2.1 Tỷ lệ (%)"]) == ("9", "14", "64.29")
    c = line[f"{C}/"]
    assert c["Cấp"] == "2" and c["Tổng điểm"] == f"{10 + 12 + 0.5 / 0.9 * 6 + 2.5:.2f}" and c["Điểm tối đa tính được"] \
        == "42" and c["4 Điểm"] == ""
    assert line["/tổng"]["2.1 Mẫu số"] == "15" and line[f"{D}/"]["Tổng điểm"] == ""


def test_a_loop_in_the_parent_links_does_not_hang_the_tree(factory, tree):
    from engine.office_models import Agency
    with db.transaction(factory) as s:
        s.get(Agency, A).parent_code = C  # A above C above A
    found = compare(factory)
    codes = [r.code for r in found.ordered() if r.kind in ("agency", "tree")]
    assert sorted(codes) == sorted([A, B, C, D])  # each agency once
    with db.transaction(factory) as session:
        assert indicator_comparison.with_children(session, C) == tuple(sorted((A, B, C)))
