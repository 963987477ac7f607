"""The Decision 766 dashboard in a real browser: a manager signs in, opens the dashboard from the console, chooses an
agency and May 2026, follows a figure to the dossiers behind it, pages on, and opens the ratings per officer; axe-core
finds no WCAG 2.1 A/AA violation; screenshots under var/test-artifacts/dashboard-766/."""
from __future__ import annotations

import pytest

from engine import accounts, db
from tests.conftest import axe_checked, sign_in_officer
from tests.engine.test_indicator_comparison import tree  # noqa: F401  (the fixture)
from tests.engine.test_indicators766 import A, NOW, may  # noqa: F401  (the fixture)
from webapp.console import dashboard_pages


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_manager_opens_the_dashboard_and_drills_down(browser, live_server, factory, may, monkeypatch):  # noqa: F811
    monkeypatch.setattr(dashboard_pages, "_now", lambda: NOW)
    monkeypatch.setattr(dashboard_pages, "PAGE", 1)
    with db.transaction(factory) as session:
        accounts.add(session, "quan-ly-1", "mat-khau-dai", groups=["manager"])
    context, page = sign_in_officer(browser, live_server.url, "quan-ly-1", "mat-khau-dai")
    page.get_by_role("link", name="Điều hành").first.click()
    page.get_by_role("link", name="Chỉ số Quyết định 766").click()
    assert "Tháng 6/2026" in page.content()  # the current month first
    page.select_option("#co_quan", A)
    page.select_option("#ky", "2026-05")
    page.get_by_role("button", name="Xem").click()
    assert "Các chỉ số, Tháng 5/2026" in page.content() and "12,7 / 20" in page.content()
    assert page.locator("svg[role=img]").count() == 2
    axe_checked(page, "dashboard-766", "1-indicators")
    page.get_by_role("link", name="2 hồ sơ: Đã giải quyết quá hạn").first.click()
    assert "Hồ sơ: Đã giải quyết quá hạn" in page.content() and "trang 1/2" in page.content()
    assert page.get_by_role("rowheader", name="A2").count() == 1
    axe_checked(page, "dashboard-766", "2-drill-down")
    page.get_by_role("link", name="Trang sau").click()
    assert page.get_by_role("rowheader", name="A7").count() == 1 and "trang 2/2" in page.content()
    axe_checked(page, "dashboard-766", "3-second-page")
    page.get_by_role("link", name="Về bảng chỉ số").click()
    page.get_by_role("link", name="Đánh giá của người dân theo cán bộ").click()
    assert page.get_by_role("rowheader", name="can-bo-1").count() == 1
    axe_checked(page, "dashboard-766", "4-ratings")
    context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_manager_compares_the_agencies(browser, live_server, factory, may, tree, monkeypatch):  # noqa: F811
    """From the dashboard to the comparison of agencies, sorted by indicator 2.1, then to a parent's dossiers."""
    monkeypatch.setattr(dashboard_pages, "_now", lambda: NOW)
    with db.transaction(factory) as session:
        accounts.add(session, "quan-ly-1", "mat-khau-dai", groups=["manager"])
    context, page = sign_in_officer(browser, live_server.url, "quan-ly-1", "mat-khau-dai")
    page.goto(f"{live_server.url}/dieu-hanh/chi-so-766?ky=2026-05")
    page.get_by_role("link", name="So sánh các cơ quan").click()
    assert "Chỉ số từng cơ quan, Tháng 5/2026" in page.content()
    assert page.locator("svg#bieu-do-so-sanh, svg[aria-labelledby^=bieu-do-so-sanh]").count() == 1
    axe_checked(page, "dashboard-766", "5-comparison")
    page.get_by_role("link", name="2.1. Tỷ lệ hồ sơ giải quyết trước hạn, đúng hạn").click()
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("2.1.")
    page.get_by_role("link", name=f"6 hồ sơ: Đã giải quyết trước hạn, đúng hạn, Ủy ban nhân dân huyện Đông ({A})"
                     ).first.click()
    assert "và các đơn vị trực thuộc" in page.content() and page.get_by_role("rowheader", name="C1").count() == 1
    axe_checked(page, "dashboard-766", "6-comparison-drill-down")
    context.close()
