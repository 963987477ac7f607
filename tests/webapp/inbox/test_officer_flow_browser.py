"""A dossier from intake to delivery in real browsers: the one-stop officer signs in, filters the inbox, claims the
dossier and requests a supplement; the citizen answers through the portal; the officer accepts it while a
colleague in a second browser, on the same task, gets the conflict message; the specialist proposes, the leader
approves, the desk returns the result and the citizen reads "Đã trả kết quả". The document and notify workers are
the real ones (PDFs under var/documents, mail to a real aiosmtpd server); the signature check answers "valid",
since the test's uploads are not signed PDFs. Screenshots under var/test-artifacts/officer-flow/."""
from __future__ import annotations

import pytest
from pypdf import PdfReader

from engine import accounts, db, deployment, dossier_codes, instances, queries
from engine.runtime import Actor, now
from tests.conftest import FORMS, PROCESSES, axe_checked, sign_in_officer
from tests.engine.test_inbox import BIRTH
from tests.workers.notify_support import smtp_server  # noqa: F401  (the fixture)
from workers import document, notify, population_lookup
from workers.runner import run_once

AGENCY = "000.00.00.H56"
CITIZEN = BIRTH["citizen_id"]  # in every synthetic registry, with the stand-in's password "demo"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_text(path) -> str:
    """The text of a downloaded PDF."""
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def checked(page, step: str) -> None:
    """Screenshot the step and fail on any WCAG 2.1 A/AA violation."""
    axe_checked(page, "officer-flow", step)


def run_workers(factory, settings) -> None:
    """Do every waiting external task with the real handlers (the signature check excepted), until none is left."""
    handlers = {population_lookup.TOPIC: population_lookup.handle, notify.TOPIC: notify.handle,
                document.TOPIC: lambda v: document.handle(v, settings.var_dir / "documents"),
                "esign-verify": lambda v: {"signature_valid": True, "signature_reason_vi": "Chữ ký hợp lệ"}}
    for _ in range(20):
        outcomes = run_once(factory, "test-worker", handlers)
        assert all(o.result == "completed" for o in outcomes), outcomes
        if not outcomes:
            return
    raise AssertionError("the workers never ran out of tasks")


def open_dossier(page, url, code):
    page.goto(f"{url}/can-bo/")
    page.get_by_role("link", name=code).click()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_intake_supplement_acceptance_approval_and_delivery(browser, live_server, factory, settings, monkeypatch,
                                                            smtp_server, tmp_path):  # noqa: F811
    mailbox, smtp = smtp_server
    monkeypatch.setenv("MOTCUA_SMTP_HOST", smtp.host)
    monkeypatch.setenv("MOTCUA_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("MOTCUA_VAR_DIR", str(settings.var_dir))
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "criminal-record"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
        for name, groups in (("can-bo-1", ["mot-cua"]), ("can-bo-2", ["mot-cua"]), ("chuyen-vien-1", ["chuyen-vien"]),
                             ("lanh-dao-1", ["lanh-dao"])):
            accounts.add(session, name, f"{name}-mat-khau", groups=groups, agency=AGENCY)
        code = dossier_codes.next_code(session, AGENCY, now())
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh",
                        {**BIRTH, "dossier_code": code, "applicant_email": "an@example.vn"}, code)
    run_workers(factory, settings)
    url = live_server.url

    desk, page = sign_in_officer(browser, url, "can-bo-1", "can-bo-1-mat-khau")
    page.select_option("#thu_tuc", "dang_ky_khai_sinh")
    page.get_by_role("button", name="Lọc").click()
    checked(page, "01-inbox-filtered")
    page.get_by_role("link", name=code).click()
    assert "Phiếu kiểm soát quá trình giải quyết hồ sơ" in page.content()
    page.get_by_role("button", name="Nhận việc").click()
    page.get_by_label("Yêu cầu bổ sung, hoàn thiện hồ sơ").check()
    page.get_by_label("Giấy tờ cần bổ sung, hoàn thiện (ghi đủ một lần)").fill(
        "Văn bản ủy quyền có chứng thực\nBản sao Giấy chứng nhận kết hôn")
    checked(page, "02-supplement-request")
    page.get_by_role("button", name="Hoàn thành").click()
    assert "Đã hoàn thành: Kiểm tra, tiếp nhận hồ sơ" in page.content()
    run_workers(factory, settings)  # Form 02 is written and mailed
    assert any("bổ sung" in (m["Subject"] or "").lower() for m in (mailbox.parsed(i) for i in range(len(mailbox.messages))))

    citizen = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN", bypass_csp=True,
                                  accept_downloads=True)
    phone = citizen.new_page()
    phone.goto(f"{url}/dang-nhap?next=/ho-so/{code}")
    phone.get_by_label("Số định danh cá nhân (12 chữ số)").fill(CITIZEN)
    phone.get_by_label("Mật khẩu").fill("demo")
    phone.get_by_role("button", name="Đăng nhập").click()
    phone.wait_for_selector("text=Yêu cầu bổ sung giấy tờ")
    with phone.expect_download() as form_02:
        phone.get_by_role("link", name="Tải Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (PDF)").click()
    assert "Văn bản ủy quyền có chứng thực" in pdf_text(form_02.value.path())  # every missing item is listed
    phone.get_by_role("button", name="Bổ sung hồ sơ").click()
    for i, name in enumerate(("uy-quyen.pdf", "ket-hon.pdf")):
        (tmp_path / name).write_bytes(PDF)
        phone.set_input_files(f"#tep-{i}", str(tmp_path / name))
    checked(phone, "03-citizen-supplement")
    phone.get_by_role("button", name="Nộp bổ sung").click()
    run_workers(factory, settings)  # the signature check of the new files

    colleague, other = sign_in_officer(browser, url, "can-bo-2", "can-bo-2-mat-khau")
    open_dossier(page, url, code)
    open_dossier(other, url, code)  # both officers have the same task open
    assert "uy-quyen.pdf" in page.content() and "Phiếu yêu cầu bổ sung" in page.content()
    page.get_by_label("Hồ sơ đầy đủ, hợp lệ: tiếp nhận").check()
    page.get_by_role("button", name="Hoàn thành").click()
    other.get_by_label("Từ chối tiếp nhận").check()
    other.get_by_label("Lý do từ chối").fill("Không thuộc thẩm quyền của xã")
    other.get_by_role("button", name="Hoàn thành").click()
    assert "một cán bộ khác đã xử lý xong" in other.content()
    state = other.locator("#tinh-trang").inner_text()
    assert "đã hoàn thành bởi can-bo-1" in state and "Lập Giấy tiếp nhận" in state  # the state now
    checked(other, "04-conflict")
    run_workers(factory, settings)  # Form 01 and its mail

    specialist, review = sign_in_officer(browser, url, "chuyen-vien-1", "chuyen-vien-1-mat-khau")
    open_dossier(review, url, code)
    review.get_by_role("button", name="Nhận việc").click()
    review.get_by_label("Đủ điều kiện: trình lãnh đạo ký kết quả").check()
    review.get_by_label("Ý kiến thẩm định").fill("Đủ điều kiện đăng ký khai sinh")
    review.get_by_role("button", name="Hoàn thành").click()
    leader, approval = sign_in_officer(browser, url, "lanh-dao-1", "lanh-dao-1-mat-khau")
    open_dossier(approval, url, code)
    assert "Đủ điều kiện đăng ký khai sinh" in approval.content() or "chuyen-vien-1" in approval.content()
    approval.get_by_label("Đồng ý, ký ban hành").check()
    checked(approval, "05-leader-approval")
    approval.get_by_role("button", name="Hoàn thành").click()
    run_workers(factory, settings)  # the result document and its notice

    open_dossier(page, url, code)
    page.get_by_label("Tại Bộ phận Một cửa").check()
    page.get_by_label("Người nhận kết quả").fill("Nguyễn Văn An")
    page.get_by_role("button", name="Hoàn thành").click()
    run_workers(factory, settings)
    phone.goto(f"{url}/ho-so/{code}")
    assert "Đã trả kết quả" in phone.content()
    with phone.expect_download() as result:
        phone.get_by_role("button", name="Tải kết quả giải quyết").click()
    assert code in pdf_text(result.value.path())
    checked(phone, "06-citizen-delivered")
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=code)
        assert instance["status"] == "completed"
    for context in (desk, citizen, colleague, specialist, leader):
        context.close()
