"""Applying online for birth registration: prefilled, page by page, mistakes shown and kept, uploads checked by
content and kept, check answers, submit — the dossier code and status 1; drafts are private."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from engine import db, deployment, queries
from tests.conftest import FORMS, PROCESSES, sign_in_citizen
from workers.registry import SyntheticRegistry

REGISTRY = SyntheticRegistry(3000, 2026)
OWNER = REGISTRY.numbers()[0]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def portal(client, factory, settings):
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "certified-copy"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
    return client


def sign_in(client, number=OWNER):
    profile = REGISTRY.lookup(number)
    sign_in_citizen(client, number, name=profile.full_name, birthdate=profile.birth_date)


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def birth_code(client) -> str:
    html = client.get("/thu-tuc", query_string={"q": "khai sinh"}).get_data(as_text=True)
    return re.search(r'href="/thu-tuc/([^"]+)">Đăng ký khai sinh<', html).group(1)


def start(client) -> str:
    answer = client.get(f"/nop-ho-so/{birth_code(client)}")
    assert answer.status_code == 302
    return answer.headers["Location"]


def post(client, url: str, data: dict, files: dict | None = None):
    page = client.get(url).get_data(as_text=True)
    body = {"csrf_token": token(page), **data}
    for name, (content, filename) in (files or {}).items():
        body[name] = (io.BytesIO(content), filename)
    return client.post(url, data=body, content_type="multipart/form-data")


def test_applying_needs_a_sign_in(portal):
    assert "/dang-nhap" in portal.get(f"/nop-ho-so/{birth_code(portal)}").headers["Location"]


def test_the_form_is_prefilled_and_the_identity_cannot_be_typed_over(portal):
    sign_in(portal)
    first = start(portal)
    html = portal.get(first).get_data(as_text=True)
    assert "Bước 1/4" in html and "Người yêu cầu" in html
    assert OWNER in html and "không sửa được" in html and REGISTRY.lookup(OWNER).full_name in html
    answer = post(portal, first, {"citizen_id": "079188001122", "applicant_name": "Tên khác",
                                  "quan_he_voi_tre": "me"})
    assert answer.status_code == 302
    check = portal.get(answer.headers["Location"].replace("/trang/2", "/trang/1")).get_data(as_text=True)
    assert OWNER in check and "079188001122" not in check


def test_a_mistake_is_summarised_kept_and_fixed(portal):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/2")
    answer = post(portal, url, {"ho_ten_tre": "Trần Minh An", "ngay_sinh_tre-ngay": "30", "ngay_sinh_tre-thang": "2",
                                "ngay_sinh_tre-nam": "2026", "gioi_tinh_tre": "nam", "noi_sinh_tre": "Bệnh viện tỉnh",
                                "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "<title>Lỗi:" in html and "Có lỗi cần sửa" in html
    assert 'href="#ngay_sinh_tre">Ngày, tháng, năm sinh phải là một ngày có thật' in html
    assert 'value="Trần Minh An"' in html and 'value="30"' in html  # nothing typed is lost
    fixed = post(portal, url, {"ho_ten_tre": "Trần Minh An", "ngay_sinh_tre-ngay": "20", "ngay_sinh_tre-thang": "11",
                               "ngay_sinh_tre-nam": "2026", "gioi_tinh_tre": "nam", "noi_sinh_tre": "Bệnh viện tỉnh",
                               "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam"})
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith("/trang/3")


def test_a_birth_date_after_today_is_refused(portal):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/2")
    answer = post(portal, url, {"ho_ten_tre": "Trần Minh An", "ngay_sinh_tre-ngay": "1", "ngay_sinh_tre-thang": "1",
                                "ngay_sinh_tre-nam": str(dt.date.today().year + 2), "gioi_tinh_tre": "nam",
                                "noi_sinh_tre": "Bệnh viện tỉnh", "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'href="#ngay_sinh_tre">Ngày, tháng, năm sinh không được sau ngày hôm nay' in html


def test_uploads_are_checked_by_content_and_kept_when_another_answer_is_wrong(portal, settings):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/4")
    refused = post(portal, url, {"so_ban_sao": "0"}, {"document": (b"MZ\x90\x00not a pdf", "giay-chung-sinh.pdf")})
    assert refused.status_code == 400 and "phải là PDF" in refused.get_data(as_text=True)  # takes only PDF
    kept = post(portal, url, {"so_ban_sao": "nhiều"}, {"document": (PDF, "Giấy chứng sinh.pdf")})
    html = kept.get_data(as_text=True)
    assert kept.status_code == 400 and "phải là số" in html and "Giấy chứng sinh.pdf" in html
    stored = list((settings.var_dir / "uploads").rglob("*.pdf"))
    assert len(stored) == 1 and stored[0].read_bytes() == PDF


def test_a_decimal_in_a_whole_number_is_refused_in_vietnamese(portal):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/4")
    answer = post(portal, url, {"so_ban_sao": "1.5"}, {"document": (PDF, "gcs.pdf")})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Số bản sao Trích lục khai sinh đề nghị cấp phải là số nguyên" in html
    assert 'value="1.5"' in html
    assert post(portal, url, {"so_ban_sao": "1.500"}).status_code == 400  # read as 1500: above the maximum of 20
    assert post(portal, url, {"so_ban_sao": "2"}).status_code == 302


def test_a_revisited_upload_shows_its_name_not_the_server_path(portal, settings):
    sign_in(portal)
    url = start(portal).replace("/trang/1", "/trang/4")
    post(portal, url, {"so_ban_sao": "nhiều"}, {"document": (PDF, "Giấy chứng sinh.pdf")})
    html = portal.get(url).get_data(as_text=True)
    assert "Đã tải lên: <strong>Giấy chứng sinh.pdf</strong>" in html
    assert "uploads" not in html and str(settings.var_dir) not in html


def fill_everything(client, certificate: bytes = PDF) -> str:
    first = start(client)
    base = first.rsplit("/", 1)[0]
    assert post(client, first, {"applicant_name": "x", "quan_he_voi_tre": "me",
                                "applicant_email": "me@example.vn"}).status_code == 302
    assert post(client, f"{base}/2", {"ho_ten_tre": "Trần Minh An", "ngay_sinh_tre-ngay": "20",
                                      "ngay_sinh_tre-thang": "11", "ngay_sinh_tre-nam": "2026", "gioi_tinh_tre": "nam",
                                      "noi_sinh_tre": "Bệnh viện tỉnh", "dan_toc_tre": "Kinh",
                                      "quoc_tich_tre": "Việt Nam"}).status_code == 302
    assert post(client, f"{base}/3", {"ho_ten_me": "Nguyễn Thị Lan"}).status_code == 302
    done = post(client, f"{base}/4", {"so_ban_sao": "2"}, {"document": (certificate, "gcs.pdf")})
    assert done.status_code == 302 and done.headers["Location"].endswith("/kiem-tra")
    return done.headers["Location"]


def test_check_answers_then_submit_gives_the_dossier_code_and_status_1(portal, factory):
    sign_in(portal)
    check_url = fill_everything(portal)
    html = portal.get(check_url).get_data(as_text=True)
    assert "Kiểm tra thông tin trước khi nộp" in html and "20/11/2026" in html and "Sửa" in html
    submit_url = check_url.replace("/kiem-tra", "/nop")
    answer = portal.post(submit_url, data={"csrf_token": token(html)})
    assert answer.status_code == 302
    done = portal.get(answer.headers["Location"]).get_data(as_text=True)
    code = re.search(r'<strong class="panel__code">([^<]+)</strong>', done).group(1)
    assert re.fullmatch(r"000\.00\.00\.H56-\d{6}-0001", code)
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=code)
        detail = queries.instance_detail(session, instance["id"])
    assert detail["dossier"]["status"] == 1 and detail["variables"]["citizen_id"] == OWNER
    assert detail["variables"]["so_ban_sao"] == 2 and detail["variables"]["dossier_code"] == code
    again = portal.post(submit_url, data={"csrf_token": token(html)})  # a second click starts nothing new
    assert again.status_code == 302
    with db.transaction(factory) as session:
        assert len(queries.instances(session, business_key=code)) == 1
    assert code in portal.get("/ho-so-cua-toi").get_data(as_text=True)


def test_a_submitted_applications_pages_lead_to_its_dossier(portal):
    sign_in(portal)
    check_url = fill_everything(portal)
    html = portal.get(check_url).get_data(as_text=True)
    portal.post(check_url.replace("/kiem-tra", "/nop"), data={"csrf_token": token(html)})
    page_url = check_url.replace("/kiem-tra", "/trang/3")
    shown = portal.get(page_url)
    assert shown.status_code == 303 and "/ho-so/000.00.00.H56-" in shown.headers["Location"]
    posted = portal.post(page_url, data={"csrf_token": token(html), "ho_ten_me": "Tên khác"})
    assert posted.status_code == 303 and posted.headers["Location"] == shown.headers["Location"]
    assert "already submitted" not in posted.get_data(as_text=True)
    assert portal.get(shown.headers["Location"]).status_code == 200


def test_submitting_an_incomplete_application_links_each_missing_answer(portal):
    sign_in(portal)
    first = start(portal)
    check_url = first.rsplit("/trang", 1)[0] + "/kiem-tra"
    html = portal.get(check_url).get_data(as_text=True)
    answer = portal.post(check_url.replace("/kiem-tra", "/nop"), data={"csrf_token": token(html)})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "Nhập họ, chữ đệm và tên người được khai sinh" in body
    assert "/trang/2?kiem_tra=1#ho_ten_tre" in body


def test_a_draft_is_private(portal):
    sign_in(portal)
    url = start(portal)
    sign_in(portal, REGISTRY.numbers()[1])
    assert portal.get(url).status_code == 404


def test_an_unfinished_application_is_listed_to_resume(portal):
    sign_in(portal)
    url = start(portal)
    html = portal.get("/ho-so-cua-toi").get_data(as_text=True)
    assert "Hồ sơ đang soạn, chưa nộp" in html and url.split("/trang/")[0] in html and "Đăng ký khai sinh" in html
    assert start(portal) == url  # starting again resumes the same draft
