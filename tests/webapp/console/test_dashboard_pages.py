"""The Decision 766 dashboard's pages: managers (and administrators) only; the indicators of May 2026 for an agency
with links to the dossiers behind each figure, the charts, the trend and the ratings; a drill-down a page at a time;
both CSV files; a manager of one agency sees only that agency; a period that is not one is refused in words."""
from __future__ import annotations

import csv
import io

import pytest

from engine import accounts, db
from tests.engine.test_indicators766 import A, B, NOW, may  # noqa: F401  (the fixture)
from tests.webapp.inbox.test_inbox_pages import sign_in
from webapp.console import dashboard_pages

MAY_A = f"ky=2026-05&co_quan={A}"


@pytest.fixture
def people(app, factory, may, monkeypatch):  # noqa: F811
    monkeypatch.setattr(dashboard_pages, "_now", lambda: NOW)
    with db.transaction(factory) as session:
        accounts.add(session, "quan-ly-tinh", "mat-khau-dai", groups=["manager"])
        accounts.add(session, "quan-ly-b", "mat-khau-dai", groups=["manager"], agency=B)
        accounts.add(session, "phan-tich-1", "mat-khau-dai", groups=["analyst"])
        accounts.add(session, "can-bo-1", "mat-khau-dai", groups=["mot-cua"], agency=A)


def client_of(app, name):
    client = app.test_client()
    sign_in(client, name, "mat-khau-dai")
    return client


def test_only_managers_open_the_dashboard(app, people):
    path = f"/dieu-hanh/chi-so-766?{MAY_A}"
    assert "/can-bo/dang-nhap" in app.test_client().get(path).headers["Location"]
    for name in ("phan-tich-1", "can-bo-1"):
        client = client_of(app, name)
        for url in (path, "/dieu-hanh/chi-so-766.csv", "/dieu-hanh/chi-so-766/ho-so?so_lieu=processed",
                    "/dieu-hanh/chi-so-766/danh-gia"):
            assert client.get(url).status_code == 403, (name, url)
    manager = client_of(app, "quan-ly-tinh")
    assert manager.get(path).status_code == 200
    assert 'href="/dieu-hanh/chi-so-766"' in manager.get("/dieu-hanh/").get_data(as_text=True)


def test_the_indicators_of_an_agencys_month(app, people):
    html = client_of(app, "quan-ly-tinh").get(f"/dieu-hanh/chi-so-766?{MAY_A}").get_data(as_text=True)
    assert "Tháng 5/2026" in html and "Các chỉ số, Tháng 5/2026" in html
    assert "63,6%" in html and "12,7 / 20" in html  # 2.1: (4 + 3) / 11
    assert "80%" in html and "12 / 12" in html  # 3: 4 / 5, over the 50% threshold
    assert "Không tính được từ dữ liệu của hệ thống." in html and "PAKN" in html
    assert f"so_lieu=finished_late&amp;ky=2026-05&amp;co_quan={A}" in html  # the figure links to its dossiers
    assert 'role="img"' in html and "<title id=\"bieu-do-diem-tieu-de\">" in html and "T5/26" in html
    assert "Tháng 4/2026" in html  # the trend's table, month by month
    assert "000.00.00.H56</th><td>3</td>" in html  # ratings of the agency in May


def test_a_drill_down_lists_the_dossiers_behind_a_figure_a_page_at_a_time(app, people, monkeypatch):
    client = client_of(app, "quan-ly-tinh")
    html = client.get(f"/dieu-hanh/chi-so-766/ho-so?so_lieu=finished_late&{MAY_A}").get_data(as_text=True)
    assert "Hồ sơ: Đã giải quyết quá hạn" in html and "2 hồ sơ" in html
    assert ">A2<" in html and ">A7<" in html and ">A1<" not in html
    monkeypatch.setattr(dashboard_pages, "PAGE", 1)
    second = client.get(f"/dieu-hanh/chi-so-766/ho-so?so_lieu=finished_late&trang=2&{MAY_A}").get_data(as_text=True)
    assert ">A7<" in second and ">A2<" not in second and "Trang trước" in second and "trang 2/2" in second
    assert client.get(f"/dieu-hanh/chi-so-766/ho-so?so_lieu=khong-co&{MAY_A}").status_code == 400


def test_the_csv_files(app, people):
    client = client_of(app, "quan-ly-tinh")
    table = client.get(f"/dieu-hanh/chi-so-766.csv?{MAY_A}")
    assert table.status_code == 200 and table.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "chi-so-766_000.00.00.H56_2026-05.csv" in table.headers["Content-Disposition"]
    text = table.get_data().decode("utf-8")
    table.close()  # a streamed response ends its request (and its transaction) when the server closes it
    assert text.startswith("\ufeff")
    progress = next(r for r in csv.reader(io.StringIO(text[1:])) if r[3] == "2.1")
    assert progress[6:9] == ["7", "11", "63.64"]
    listed = client.get(f"/dieu-hanh/chi-so-766/ho-so.csv?so_lieu=open_overdue&{MAY_A}")
    assert listed.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(listed.get_data().decode("utf-8")[1:])))
    listed.close()
    assert rows[0][0] == "Mã hồ sơ" and [r[0] for r in rows[1:]] == ["A8", "A5"]


def test_a_manager_of_one_agency_sees_only_it(app, people):
    html = client_of(app, "quan-ly-b").get(f"/dieu-hanh/chi-so-766?{MAY_A}").get_data(as_text=True)
    assert f"({B})" in html and "Tất cả cơ quan" not in html and f'value="{A}"' not in html
    assert "100%" in html  # B1, its only dossier, finished on time
    listed = client_of(app, "quan-ly-b").get(f"/dieu-hanh/chi-so-766/ho-so?so_lieu=processed&{MAY_A}")
    assert ">B1<" in listed.get_data(as_text=True) and ">A1<" not in listed.get_data(as_text=True)


def test_all_agencies_and_custom_days(app, people):
    client = client_of(app, "quan-ly-tinh")
    html = client.get("/dieu-hanh/chi-so-766?ky=2026-05").get_data(as_text=True)
    assert "Tất cả cơ quan" in html and "000.00.16.H56</th><td>1</td>" in html
    days = client.get("/dieu-hanh/chi-so-766?tu_ngay=2026-05-01&den_ngay=2026-05-31").get_data(as_text=True)
    assert "Từ 01/05/2026 đến 31/05/2026" in days and "12,7 / 20" not in days  # all agencies: 8 / 12
    assert "66,7%" in days


def test_a_period_that_is_not_one_is_refused_in_words(app, people):
    client = client_of(app, "quan-ly-tinh")
    wrong = client.get("/dieu-hanh/chi-so-766?ky=2026-13")
    assert wrong.status_code == 400 and "không phải một kỳ báo cáo" in wrong.get_data(as_text=True)
    backwards = client.get("/dieu-hanh/chi-so-766?tu_ngay=2026-05-31&den_ngay=2026-05-01")
    assert backwards.status_code == 400 and "Ngày kết thúc phải sau" in backwards.get_data(as_text=True)


def test_ratings_per_officer(app, people):
    html = client_of(app, "quan-ly-tinh").get(f"/dieu-hanh/chi-so-766/danh-gia?{MAY_A}").get_data(as_text=True)
    assert "can-bo-1" in html and "can-bo-2" in html and "chuyen-vien-1" not in html
    assert "50%" in html  # each has one unhappy rating of two


def test_a_period_still_to_come_shows_nothing_yet(app, people):
    html = client_of(app, "quan-ly-tinh").get(f"/dieu-hanh/chi-so-766?ky=2027-01&co_quan={A}").get_data(as_text=True)
    assert "Tháng 1/2027" in html and "— / 20 (không có hồ sơ)" in html and "Tỷ lệ hồ sơ giải quyết đúng hạn" not in html


# the comparison of agencies (/dieu-hanh/chi-so-766/so-sanh), on the tree of agencies of test_indicator_comparison
from tests.engine.test_indicator_comparison import C, D, tree  # noqa: E402, F401  (the fixture)

COMPARE = "/dieu-hanh/chi-so-766/so-sanh"


def row_order(html, codes):
    """The codes in the order their rows come in the comparison table."""
    table = html[html.index('id="bang-so-sanh"'):html.index("</tbody>")]
    return sorted(codes, key=lambda code: table.index(f"({code})"))


def test_the_comparison_of_agencies(app, people, tree):  # noqa: F811
    client = client_of(app, "quan-ly-tinh")
    html = client.get(f"{COMPARE}?ky=2026-05").get_data(as_text=True)
    assert "So sánh các cơ quan theo chỉ số 766" in html and "Chỉ số từng cơ quan, Tháng 5/2026" in html
    assert "64,3%" in html  # A with B and C: 2.1 = (7 + 1 + 1) / (11 + 1 + 2)
    assert "63,6%" in html and "50%" in html  # A's own dossiers; C: 1 of 2
    assert "gồm các đơn vị trực thuộc" in html and "riêng cơ quan, không gồm đơn vị trực thuộc" in html
    assert "Không rõ cơ quan" in html and "Tất cả cơ quan" in html  # the dossier without an agency; the total
    # each figure links to its dossiers: the parent's with its children, an agency's alone
    assert f"so_lieu=finished_on_time&amp;ky=2026-05&amp;co_quan={A}&amp;truc_thuoc=1" in html
    assert f"so_lieu=processed&amp;ky=2026-05&amp;co_quan={C}\"" in html
    assert 'id="bieu-do-so-sanh-tieu-de"' in html and "Tổng điểm các chỉ số tính được của từng cơ quan" in html
    assert f"{C} Xã Nam: 27,8 trên 42 điểm" in html  # the chart's words: C's total
    # by total, highest first, by default: B (42/42) before C; children stay under their parent
    assert 'aria-sort="descending"' in html and row_order(html, [A, B, C, D]) == [A, B, C, D]


def test_the_comparison_sorts_by_any_column(app, people, tree):  # noqa: F811
    client = client_of(app, "quan-ly-tinh")
    up = client.get(f"{COMPARE}?ky=2026-05&sap_xep=2.1&chieu=tang").get_data(as_text=True)
    assert row_order(up, [A, B, C, D]) == [A, C, B, D]
    assert 'aria-sort="ascending"' in up
    assert "sap_xep=2.1&amp;chieu=giam" in up  # the current column's link turns the order round
    by_name = client.get(f"{COMPARE}?ky=2026-05&sap_xep=ten").get_data(as_text=True)
    assert row_order(by_name, [A, B, C, D]) == [A, B, C, D] and 'aria-sort="ascending"' in by_name
    unknown = client.get(f"{COMPARE}?ky=2026-05&sap_xep=khong-co")
    assert unknown.status_code == 200  # an unknown column sorts by the total
    assert 'name="sap_xep" value="2.1"' in up  # the period form keeps the order


def test_a_parents_figure_leads_to_its_dossiers_and_its_childrens(app, people, tree):  # noqa: F811
    client = client_of(app, "quan-ly-tinh")
    listed = client.get(f"/dieu-hanh/chi-so-766/ho-so?so_lieu=finished_on_time&ky=2026-05&co_quan={A}&truc_thuoc=1")
    html = listed.get_data(as_text=True)
    assert "và các đơn vị trực thuộc" in html and "6 hồ sơ" in html  # A's 4, B1, C1
    assert ">B1<" in html and ">C1<" in html and ">C2<" not in html
    board = client.get(f"/dieu-hanh/chi-so-766?ky=2026-05&co_quan={A}&truc_thuoc=1").get_data(as_text=True)
    assert "64,3%" in board and 'id="truc_thuoc" name="truc_thuoc" value="1" checked' in board


def test_the_comparison_as_csv(app, people, tree):  # noqa: F811
    reply = client_of(app, "quan-ly-tinh").get(f"{COMPARE}.csv?ky=2026-05&sap_xep=ten&chieu=tang")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "so-sanh-chi-so-766_2026-05.csv" in reply.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(reply.get_data().decode("utf-8")[1:])))
    assert [r[1] for r in rows[1:]] == [A, A, B, C, D, "", ""]  # the order shown, then the total
    assert rows[1][5:8] == ["9", "14", "64.29"] and rows[-1][4] == "tổng"


def test_a_manager_of_one_agency_compares_only_it(app, people, tree):  # noqa: F811
    client = client_of(app, "quan-ly-b")
    html = client.get(f"{COMPARE}?ky=2026-05").get_data(as_text=True)
    assert row_order(html, [B]) == [B] and f"({A})" not in html and "Tất cả cơ quan" not in html
    board = client.get(f"/dieu-hanh/chi-so-766?ky=2026-05&co_quan={A}&truc_thuoc=1").get_data(as_text=True)
    assert "trực thuộc" not in board.split('id="tong-quan"')[1][:300]  # not offered, not applied


def test_only_managers_compare_and_a_wrong_period_is_refused(app, people, tree):  # noqa: F811
    assert client_of(app, "phan-tich-1").get(f"{COMPARE}?ky=2026-05").status_code == 403
    assert client_of(app, "phan-tich-1").get(f"{COMPARE}.csv?ky=2026-05").status_code == 403
    wrong = client_of(app, "quan-ly-tinh").get(f"{COMPARE}?ky=2026-13")
    assert wrong.status_code == 400 and "không phải một kỳ báo cáo" in wrong.get_data(as_text=True)
    board = client_of(app, "quan-ly-tinh").get("/dieu-hanh/chi-so-766?ky=2026-05").get_data(as_text=True)
    assert "/dieu-hanh/chi-so-766/so-sanh?ky=2026-05" in board
