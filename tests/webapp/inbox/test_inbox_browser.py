"""The inbox in a real browser: an officer signs in, filters, opens a dossier, requests a supplement with the
keyboard-friendly form; axe-core finds no WCAG 2.1 A/AA violation; screenshots under var/test-artifacts/inbox/."""
from __future__ import annotations


import pytest

from tests.conftest import axe_checked, sign_in_officer
from tests.webapp.inbox.test_inbox_pages import desk  # noqa: F401  (the fixture)


def checked(page, step: str) -> None:
    """Screenshot the step and fail on any WCAG 2.1 A/AA violation."""
    axe_checked(page, "inbox", step)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_officer_requests_a_supplement_in_the_browser(browser, live_server, desk):  # noqa: F811
    birth, record = desk
    context, page = sign_in_officer(browser, live_server.url, "can-bo-1", "mat-khau-1")
    assert birth in page.content() and record not in page.content()
    checked(page, "1-inbox")
    page.select_option("#nguoi_xu_ly", "nobody")
    page.get_by_role("button", name="Lọc").click()
    page.get_by_role("link", name=birth).click()
    checked(page, "2-task")
    page.get_by_role("button", name="Nhận việc").click()
    page.get_by_label("Yêu cầu bổ sung, hoàn thiện hồ sơ").check()
    page.get_by_role("button", name="Hoàn thành").click()
    assert "Có lỗi cần sửa" in page.content()
    checked(page, "3-task-errors")
    page.get_by_label("Giấy tờ cần bổ sung, hoàn thiện (ghi đủ một lần)").fill("Giấy chứng sinh bản gốc")
    page.get_by_role("button", name="Hoàn thành").click()
    assert "Đã hoàn thành: Kiểm tra, tiếp nhận hồ sơ" in page.content() and birth not in page.content()
    checked(page, "4-done")
    context.close()
