"""A citizen's journey in a real browser (phone-sized, Debian's Chromium): find birth registration, sign in
through the VNeID stand-in, find the form prefilled, make one mistake, read the error summary, fix it, upload
the birth certificate, check the answers, submit, read the dossier code, follow the dossier. axe-core checks
every page against WCAG 2.1 A/AA; each step's screenshot is saved under var/test-artifacts/journey/."""
from __future__ import annotations

import re

import pytest

from engine import db, deployment
from tests.conftest import FORMS, PROCESSES, axe_checked
from tests.webapp.test_payments import site  # noqa: F401  (a live server whose public URL is its own)
from workers.registry import SyntheticRegistry

CITIZEN = SyntheticRegistry(3000, 2026).numbers()[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def checked(page, step: str) -> None:
    """Screenshot the step and fail on any WCAG 2.1 A/AA violation."""
    axe_checked(page, "journey", step)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_apply_for_birth_registration_from_search_to_dossier_code(browser, live_server, factory, tmp_path):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/thu-tuc")
    page.get_by_label("Tên, mã hoặc lĩnh vực của thủ tục").fill("khai sinh")
    page.get_by_role("button", name="Tìm kiếm").click()
    page.get_by_role("link", name="Đăng ký khai sinh").click()
    checked(page, "01-procedure")
    page.get_by_role("button", name="Nộp hồ sơ trực tuyến").click()

    checked(page, "01b-sign-in")
    page.get_by_label("Số định danh cá nhân (12 chữ số)").fill(CITIZEN)
    page.get_by_label("Mật khẩu").fill("demo")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("text=Bước 1/4")
    assert CITIZEN in page.content()  # prefilled from the identity, locked
    checked(page, "02-applicant-prefilled")
    page.get_by_label("Quan hệ với người được khai sinh").select_option("me")
    page.get_by_role("button", name="Tiếp tục").click()

    page.get_by_label("Họ, chữ đệm và tên người được khai sinh").fill("Trần Minh An")
    page.get_by_label("Ngày", exact=True).fill("31")
    page.get_by_label("Tháng").fill("11")
    page.get_by_label("Năm").fill("2026")
    page.get_by_label("Nam", exact=True).check()
    page.get_by_label("Nơi sinh").fill("Bệnh viện Đa khoa tỉnh")
    page.get_by_label("Dân tộc").fill("Kinh")
    page.get_by_role("button", name="Tiếp tục").click()
    summary = page.locator(".error-summary")
    assert "Ngày, tháng, năm sinh phải là một ngày có thật" in summary.inner_text()
    checked(page, "03-error-summary")
    summary.get_by_role("link").first.click()
    page.get_by_label("Ngày", exact=True).fill("20")
    page.get_by_role("button", name="Tiếp tục").click()

    page.get_by_label("Họ, chữ đệm và tên người mẹ").fill("Nguyễn Thị Lan")
    page.get_by_role("button", name="Tiếp tục").click()
    certificate = tmp_path / "giay-chung-sinh.pdf"
    certificate.write_bytes(PDF)
    page.set_input_files("#document", str(certificate))
    checked(page, "04-upload")
    page.get_by_role("button", name="Tiếp tục").click()

    page.wait_for_selector("text=Kiểm tra thông tin trước khi nộp")
    assert "20/11/2026" in page.content() and "giay-chung-sinh.pdf" in page.content()
    checked(page, "05-check-answers")
    page.get_by_role("button", name="Đồng ý và nộp hồ sơ").click()
    code = page.locator(".panel__code").inner_text()
    assert code.startswith("000.00.00.H56-")
    checked(page, "06-submitted")
    page.get_by_role("link", name="Hồ sơ của tôi").first.click()
    assert code in page.content() and "Mới đăng ký" in page.content()
    checked(page, "07-my-dossiers")
    context.close()


def test_follow_pay_download_the_receipt_and_rate_in_the_browser(site, browser, factory):  # noqa: F811
    from engine import external_tasks, queries, user_tasks
    from engine.runtime import Actor
    from tests.webapp.portal.test_payment_status import waiting_for_payment
    server, settings = site
    code = waiting_for_payment(factory, settings, settings.var_dir / "documents")  # accepted, receipt rendered
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN", bypass_csp=True,
                                  accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/dang-nhap?next=/ho-so/{code}")
    page.get_by_label("Số định danh cá nhân (12 chữ số)").fill(CITIZEN)
    page.get_by_label("Mật khẩu").fill("demo")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_selector("text=Chờ thanh toán")
    assert "Yêu cầu thực hiện nghĩa vụ tài chính" in page.content()
    checked(page, "08-fee-waiting")
    page.get_by_role("button", name="Thanh toán trực tuyến").click()
    page.get_by_role("button", name="Thanh toán", exact=True).click()  # the stand-in gateway
    page.goto(f"{server.url}/ho-so/{code}")
    assert "Đã thanh toán" in page.content() and "Đang xử lý" in page.content()
    checked(page, "09-fee-paid")

    page.reload()
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải Giấy tiếp nhận hồ sơ và hẹn trả kết quả (PDF)").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    steps = [("chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đủ điều kiện"}),
             ("lanh-dao", {"y_kien_lanh_dao": "dong_y"}), ("mot-cua", {"hinh_thuc_tra": "truc_tuyen"})]
    for group, form in steps:
        with db.transaction(factory) as session:
            (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == code]
            user_tasks.complete(session, task["id"], Actor("officer", frozenset({group})), form)
        for topic in ("document", "notify"):
            with db.transaction(factory) as session:
                for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                    external_tasks.complete(session, task.id, "w", {})
    page.reload()
    assert "Đã trả kết quả" in page.content()
    checked(page, "10-delivered")
    page.get_by_role("button", name="Đánh giá việc giải quyết hồ sơ").click()
    checked(page, "11-rating")
    for question, answer in (("liên hệ với cơ quan giải quyết", "Không lần nào"), ("bao nhiêu cơ quan", "Chỉ Bộ phận Một cửa"),
                             ("tiếp nhận và trả kết quả", "Có"), ("Thái độ", "Lịch sự, tận tình"),
                             ("dịch vụ công trực tuyến", "Rất hài lòng"), ("đánh giá chung", "Hài lòng")):
        page.get_by_role("group", name=re.compile(question)).get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Gửi đánh giá").click()
    assert "Đã đánh giá" in page.content()
    checked(page, "12-rated")
    context.close()



@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_look_up_and_the_supplement_pages_are_accessible(browser, live_server, factory, tmp_path):
    from tests.webapp.portal.test_dossier_pages import apply
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    code = apply(factory, CITIZEN)  # the desk asked for a supplement
    context = browser.new_context(viewport={"width": 412, "height": 915}, locale="vi-VN", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/tra-cuu")
    page.get_by_role("button", name="Tra cứu").click()
    assert "Có lỗi cần sửa" in page.content()
    checked(page, "13-lookup-errors")
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_label("Số định danh cá nhân của người nộp (12 chữ số)").fill(CITIZEN)
    page.get_by_role("button", name="Tra cứu").click()
    assert "Yêu cầu bổ sung giấy tờ" in page.content()
    checked(page, "14-lookup-found")
    page.goto(f"{live_server.url}/dang-nhap?next=/ho-so/{code}/bo-sung")
    page.get_by_label("Số định danh cá nhân (12 chữ số)").fill(CITIZEN)
    page.get_by_label("Mật khẩu").fill("demo")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Nộp bổ sung").click()
    assert "Tải lên tệp cho mục: Giấy chứng sinh có chữ ký số hợp lệ" in page.content()
    checked(page, "15-supplement-errors")
    replacement = tmp_path / "gcs-moi.pdf"
    replacement.write_bytes(PDF)
    page.set_input_files("#tep-0", str(replacement))
    page.get_by_role("button", name="Nộp bổ sung").click()
    assert "Đã bổ sung hồ sơ" in page.content()
    checked(page, "16-supplemented")
    context.close()
