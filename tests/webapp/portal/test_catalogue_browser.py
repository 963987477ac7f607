"""The catalogue in a real browser: a citizen searches without accents, filters, opens a procedure — with the
keyboard only and no JavaScript of ours — and axe-core finds no WCAG 2.1 A/AA violation on any page.
Screenshots of each step are saved under var/test-artifacts/portal/."""
from __future__ import annotations

import json

import pytest

from engine import db, deployment
from tests.conftest import FORMS, PROCESSES, axe_violations, screenshot



@pytest.fixture
def page(browser, live_server, factory):
    with db.transaction(factory) as session:
        for folder in sorted(p for p in PROCESSES.iterdir() if p.is_dir()):
            deployment.deploy(session, deployment.collect_files([folder]), FORMS)
    # bypass_csp: the portal's policy rightly refuses the axe-core script the test injects
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


def shot(page, name: str) -> None:
    screenshot(page, "portal", name)


def test_a_citizen_finds_and_reads_a_procedure_on_a_phone_with_the_keyboard(page):
    page.goto(page.base_url + "/")
    assert page.title() == "Thủ tục hành chính – Cổng dịch vụ công"
    assert axe_violations(page) == [], "front page"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Bỏ qua, đến nội dung chính"
    page.get_by_label("Tên, mã hoặc lĩnh vực của thủ tục").fill("dang ky khai sinh")
    page.get_by_label("Tên, mã hoặc lĩnh vực của thủ tục").press("Enter")
    page.wait_for_url("**/thu-tuc?q=dang+ky+khai+sinh*")
    shot(page, "1-search")
    first = page.locator(".result h3 a").first
    assert first.inner_text() == "Đăng ký khai sinh"
    assert axe_violations(page) == [], "search results"
    first.click()
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Đăng ký khai sinh"
    assert page.get_by_text("Giấy chứng sinh", exact=False).count() > 0
    shot(page, "2-procedure")
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False)


def test_filters_work_without_javascript(browser, live_server, factory):
    with db.transaction(factory) as session:
        for folder in sorted(p for p in PROCESSES.iterdir() if p.is_dir()):
            deployment.deploy(session, deployment.collect_files([folder]), FORMS)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/thu-tuc")
    page.select_option("#muc_do", "mot-phan")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.wait_for_url("**muc_do=mot-phan*")
    assert page.locator(".result h3 a").all_inner_texts() == ["Chứng thực bản sao điện tử từ bản chính"]
    shot(page, "3-filter-no-js")
    context.close()
