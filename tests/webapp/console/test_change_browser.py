"""The console in a real browser: an analyst uploads a new version of a process with an error and sees it in plain
words, fixes it and deploys it, retries an incident with a corrected variable, migrates the running instances to
the new version after the preview, and moves a token; axe-core finds no WCAG 2.1 A/AA violation on any step;
screenshots under var/test-artifacts/console-changes/."""
from __future__ import annotations

import pytest

from engine import accounts, db, instances, queries
from engine.runtime import Actor
from tests.bpmn_builder import end, linear, process, script, start, user_task
from tests.conftest import axe_checked, deploy_files, sign_in_officer

V1 = process(linear(start(), script("chia", "ket_qua = 10 / so_chia"), user_task("xem", "staff"), end()),
             process_id="chia_so")
V2 = process(linear(start(), script("chia", "ket_qua = 10 / so_chia"), user_task("xem", "staff"),
                    user_task("duyet", "staff"), end()), process_id="chia_so")
BROKEN = V2.replace(b"</bpmn:process>", b"<bpmn:task id='t' name='x'>")  # not well-formed


def checked(page, step: str) -> None:
    """Screenshot the step and fail on any WCAG 2.1 A/AA violation."""
    axe_checked(page, "console-changes", step)


@pytest.fixture
def running(factory):
    """Version 1 deployed, one instance stuck on a division by zero and one waiting at its user task."""
    deploy_files(factory, [("chia.bpmn", V1)])
    operator = Actor("operator", operator=True)
    with db.transaction(factory) as session:
        accounts.add(session, "phan-tich-1", "mat-khau-dai", groups=["analyst"])
        failing = instances.start(session, operator, "chia_so", {"so_chia": 0}, "CHIA-0001").row.id
        waiting = instances.start(session, operator, "chia_so", {"so_chia": 2}, "CHIA-0002").row.id
    return failing, waiting


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_analyst_fixes_a_deployment_retries_an_incident_and_migrates_instances(browser, live_server, factory,
                                                                                running):
    failing, waiting = running
    context, page = sign_in_officer(browser, live_server.url, "phan-tich-1", "mat-khau-dai")

    page.goto(f"{live_server.url}/dieu-hanh/quy-trinh")
    page.set_input_files("#tep", files=[{"name": "chia.bpmn", "mimeType": "application/xml", "buffer": BROKEN}])
    page.get_by_label("Lý do triển khai").fill("Thêm bước lãnh đạo duyệt")
    page.get_by_role("button", name="Kiểm tra và triển khai").click()
    assert "Không triển khai được" in page.content() and "chia.bpmn" in page.locator("#loi-trien-khai").inner_text()
    checked(page, "1-deploy-error")
    page.set_input_files("#tep", files=[{"name": "chia.bpmn", "mimeType": "application/xml", "buffer": V2}])
    page.get_by_role("button", name="Kiểm tra và triển khai").click()
    assert "Đã triển khai chia_so phiên bản 2" in page.content()
    checked(page, "2-deployed")

    page.goto(f"{live_server.url}/dieu-hanh/ho-so/{failing}")
    assert "division by zero" in page.content()
    page.get_by_label("Biến sửa lại (JSON, không bắt buộc)").fill('{"so_chia": 5}')
    page.get_by_label("Lý do thử lại").fill("Cán bộ nhập nhầm số chia")
    page.get_by_role("button", name="Thử lại").click()
    assert "Đã thử lại sự cố" in page.content()
    checked(page, "3-incident-retried")

    page.goto(f"{live_server.url}/dieu-hanh/quy-trinh")
    page.get_by_role("link", name="Chuyển phiên bản").click()
    assert "Task duyet (duyet)" in page.locator("#doi-chieu").inner_text()
    assert "Chuyển được (2)" in page.content() and "Không chuyển được (0)" in page.content()
    checked(page, "4-migration-preview")
    page.get_by_label("Lý do chuyển phiên bản").fill("Thêm bước duyệt theo quy định mới")
    page.get_by_role("button", name="Chuyển sang phiên bản 2").click()
    assert "Đã chuyển (2)" in page.content() and "CHIA-0001" in page.content()
    checked(page, "5-migration-report")

    page.get_by_role("link", name="CHIA-0002").click()
    page.select_option("#tu", "xem")
    page.select_option("#den", "duyet")
    page.get_by_label("Lý do di chuyển token").fill("Đã xem trên hồ sơ giấy")
    page.get_by_role("button", name="Xem trước khi di chuyển").click()
    assert "Hủy token đang ở: Task xem (xem)." in page.content()
    checked(page, "6-move-preview")
    page.get_by_role("button", name="Xác nhận di chuyển").click()
    assert "Đã di chuyển token từ Task xem (xem) đến Task duyet (duyet)." in page.content()
    checked(page, "7-moved")
    context.close()
    with db.transaction(factory) as session:
        assert [queries.instance(session, i)["definitionId"] for i in (failing, waiting)] == ["chia_so:2"] * 2
        assert [t["taskDefinitionKey"] for t in queries.user_tasks(session, instance_id=waiting)] == ["duyet"]
        assert [t["taskDefinitionKey"] for t in queries.user_tasks(session, instance_id=failing)] == ["xem"]
