"""The portal's catalogue pages: search without accents, filters, a procedure's page, errors as pages, headers."""
from __future__ import annotations

import re

import pytest

from engine import db, deployment
from tests.conftest import FORMS, PROCESSES


@pytest.fixture
def portal(client, factory):
    with db.transaction(factory) as session:
        for folder in sorted(p for p in PROCESSES.iterdir() if p.is_dir()):
            deployment.deploy(session, deployment.collect_files([folder]), FORMS)
    return client


def titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="heading-s"><a class="link" href="[^"]+">([^<]+)</a>', html)


def test_the_front_page_lists_every_procedure_in_vietnamese(portal):
    response = portal.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="vi">' in html
    assert "Tất cả 5 thủ tục" in html and len(titles(html)) == 5
    assert "Xác nhận thông tin cư trú" not in html  # the sample is not offered to citizens


@pytest.mark.parametrize("query", ["khai sinh", "dang ky khai sinh", "ĐĂNG KÝ KHAI SINH", "đăng kí khai sinh", "dang ki"])
def test_search_finds_a_procedure_with_or_without_accents(portal, query):
    html = portal.get("/thu-tuc", query_string={"q": query}).get_data(as_text=True)
    assert titles(html)[0] == "Đăng ký khai sinh" and "thủ tục phù hợp" in html


def test_filters_and_an_empty_result_say_what_to_do(portal):
    html = portal.get("/thu-tuc", query_string={"muc_do": "mot-phan"}).get_data(as_text=True)
    assert titles(html) == ["Chứng thực bản sao điện tử từ bản chính"]
    assert '<option value="mot-phan" selected>' in html
    html = portal.get("/thu-tuc", query_string={"q": "khong co thu tuc nay"}).get_data(as_text=True)
    assert titles(html) == [] and "Không tìm thấy thủ tục nào" in html


def test_what_the_citizen_typed_is_escaped(portal):
    html = portal.get("/thu-tuc", query_string={"q": '<script>alert("x")</script>'}).get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_a_procedure_page_shows_documents_deadline_fee_result_and_legal_basis(portal):
    listing = portal.get("/thu-tuc", query_string={"q": "khai sinh"}).get_data(as_text=True)
    link = re.search(r'href="(/thu-tuc/[^"]+)">Đăng ký khai sinh<', listing).group(1)
    html = portal.get(link).get_data(as_text=True)
    assert "<h1 class=\"heading-xl\">Đăng ký khai sinh</h1>" in html
    assert "Toàn trình" in html and "1 ngày làm việc; hồ sơ nhận sau 15:00 được tính từ ngày làm việc tiếp theo" in html
    assert "Giấy chứng sinh" in html and "Luật Hộ tịch số 60/2014/QH13" in html
    assert "8.000 đồng/bản" in html and "unverified" not in html


def test_an_unknown_procedure_is_a_404_page_not_json(portal):
    response = portal.get("/thu-tuc/khong-ton-tai")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "Không tìm thấy trang" in html and response.mimetype == "text/html"


def test_the_rest_api_still_answers_json_errors(portal):
    response = portal.get("/engine-rest/no-such-thing")
    assert response.status_code == 404 and response.is_json


def test_portal_pages_carry_security_headers(portal):
    headers = portal.get("/thu-tuc").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin"
    css = portal.get("/portal-static/portal.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    css.close()
