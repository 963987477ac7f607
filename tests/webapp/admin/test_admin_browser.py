"""The admin pages in a real browser: an administrator signs in, creates an account (after fixing the mistakes the
error summary lists), adds an agency and a group, disables the account (after the error summary asks why);
axe-core finds no WCAG 2.1 A/AA violation on any page, nor on the sign-in page with the province's button;
screenshots under var/test-artifacts/admin/."""
from __future__ import annotations

import dataclasses

import pytest

from tests.conftest import LiveServer, axe_checked
from tests.webapp.admin.test_admin_pages import office  # noqa: F401  (the fixture)
from webapp.app import create_app


def checked(page, step: str) -> None:
    """Screenshot the step and fail on any WCAG 2.1 A/AA violation."""
    axe_checked(page, "admin", step)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_administrator_manages_accounts_agencies_and_groups(browser, settings, factory, office):  # noqa: F811
    provincial = dataclasses.replace(settings, officer_oidc_issuer="http://127.0.0.1:9/tinh",
                                     officer_oidc_client_id="motcua-can-bo", officer_oidc_client_secret="x")
    server = LiveServer(create_app(provincial, factory))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/quan-tri/")
        assert "Đăng nhập bằng tài khoản của tỉnh" in page.content()
        checked(page, "1-sign-in")
        page.get_by_label("Tên đăng nhập").fill("quan-tri")
        page.get_by_label("Mật khẩu").fill("mat-khau-quan-tri")
        page.get_by_role("button", name="Đăng nhập", exact=True).click()
        assert "<h1 class=\"heading-xl\">Tài khoản</h1>" in page.content()
        checked(page, "2-accounts")

        page.get_by_role("link", name="Cơ quan", exact=True).click()
        page.get_by_label("Mã cơ quan").fill("000.00.16.H56")
        page.get_by_label("Tên cơ quan").fill("Công an tỉnh")
        page.get_by_role("button", name="Thêm cơ quan").click()
        assert "Đã thêm cơ quan 000.00.16.H56." in page.content()
        checked(page, "3-agencies")
        page.get_by_role("link", name="Nhóm", exact=True).click()
        page.get_by_label("Tên nhóm").fill("mot-cua")
        page.get_by_label("Tên gọi").fill("Bộ phận Một cửa")
        page.get_by_role("button", name="Thêm nhóm").click()
        checked(page, "4-groups")

        page.get_by_role("link", name="Tài khoản", exact=True).click()
        page.get_by_role("link", name="Tạo tài khoản").click()
        page.get_by_label("Tên đăng nhập").fill("Can Bo")
        page.get_by_label("Mật khẩu", exact=True).fill("ngan")
        page.get_by_role("button", name="Tạo tài khoản").click()
        assert "Có lỗi cần sửa" in page.content()
        checked(page, "5-new-account-errors")
        page.get_by_label("Tên đăng nhập").fill("can-bo-2")
        page.get_by_label("Tên hiển thị").fill("Lê Thị Hoa")
        page.select_option("#co_quan", "000.00.16.H56")
        page.get_by_label("Bộ phận Một cửa (mot-cua)").check()
        page.get_by_label("Mật khẩu", exact=True).fill("mat-khau-dai")
        page.get_by_label("Nhập lại mật khẩu").fill("mat-khau-dai")
        page.get_by_role("button", name="Tạo tài khoản").click()
        assert "Đã tạo tài khoản can-bo-2." in page.content()
        checked(page, "6-account")
        page.get_by_role("button", name="Khóa tài khoản").click()
        assert "Ghi lý do khóa tài khoản" in page.locator(".error-summary").inner_text()
        checked(page, "7-disable-needs-a-reason")
        page.get_by_label("Lý do khóa", exact=True).fill("Cán bộ nghỉ hưu từ 01/12/2026")
        page.get_by_role("button", name="Khóa tài khoản").click()
        assert "Đã khóa tài khoản can-bo-2." in page.content()
        page.get_by_role("link", name="Tài khoản", exact=True).click()
        assert "Đã khóa" in page.content()
        checked(page, "8-accounts-after")
    finally:
        context.close()
        server.stop()
