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
