"""The inbox list in a real browser: an officer filters, sorts, pages, saves a filter (one mistake first), opens and
deletes it; axe-core finds no WCAG 2.1 A/AA violation; screenshots under var/test-artifacts/inbox-list/."""
from __future__ import annotations

import pytest

from engine import inbox
from tests.conftest import axe_checked, sign_in_officer
from tests.webapp.inbox.test_inbox_list import desk  # noqa: F401  (the fixture)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_officer_filters_pages_and_saves_a_filter_in_the_browser(browser, live_server, desk,  # noqa: F811
                                                                    monkeypatch):
    monkeypatch.setattr(inbox, "PAGE", 2)
    context, page = sign_in_officer(browser, live_server.url, "can-bo-1", "mat-khau-1")
    assert "4 việc" in page.content() and desk[0] in page.content() and desk[2] not in page.content()
    page.get_by_role("link", name="Trang sau").click()
    assert desk[2] in page.content() and "trang 2" in page.content()
    axe_checked(page, "inbox-list", "1-second-page")
    page.select_option("#han", "on_time")
    page.select_option("#sap_xep", "received")
    page.select_option("#thu_tu", "desc")
    page.get_by_role("button", name="Lọc", exact=True).click()
    assert "3 việc" in page.content() and desk[3] in page.content() and desk[0] not in page.content()
    page.get_by_role("button", name="Lưu", exact=True).click()
    assert "Nhập tên cho bộ lọc" in page.content()
    axe_checked(page, "inbox-list", "2-filter-name-missing")
    page.get_by_label("Lưu bộ lọc này với tên").fill("Còn hạn, mới nhận trước")
    page.get_by_role("button", name="Lưu", exact=True).click()
    assert "Đã lưu bộ lọc «Còn hạn, mới nhận trước»" in page.content()
    axe_checked(page, "inbox-list", "3-saved")
    page.get_by_role("link", name="Bỏ lọc").click()
    assert "4 việc" in page.content()
    page.get_by_role("link", name="Còn hạn, mới nhận trước").click()
    assert "3 việc" in page.content() and page.input_value("#thu_tu") == "desc"
    page.get_by_role("button", name="Xoá «Còn hạn, mới nhận trước»").click()
    assert "Đã xoá bộ lọc." in page.content() and "Bộ lọc đã lưu" not in page.content()
    context.close()
