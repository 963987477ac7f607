"""Officers sign in through the province's OpenID Connect provider (code + PKCE + nonce) over real HTTP: the
configured claim names the local account, which must exist, be enabled and not be a service account."""
from __future__ import annotations

import dataclasses
import re

import pytest
import requests

from engine import account_admin, accounts, db
from tests.conftest import LiveServer
from tests.webapp.inbox.provincial_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in
from webapp.app import create_app

BUTTON = "Đăng nhập bằng tài khoản của tỉnh"


@pytest.fixture
def province():
    """The province's provider on a free port."""
    provider = Provider()
    server = LiveServer(provider.app)
    provider.url = server.url
    yield provider
    server.stop()


@pytest.fixture
def settings(settings, province):
    """The app's settings with the province's provider configured."""
    return dataclasses.replace(settings, officer_oidc_issuer=province.url, officer_oidc_client_id=CLIENT_ID,
                               officer_oidc_client_secret=CLIENT_SECRET)


@pytest.fixture
def officers(factory):
    with db.transaction(factory) as session:
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency="000.00.00.H56")
        accounts.add(session, "tinh-1", groups=["mot-cua"], agency="000.00.16.H56", external=True)
        accounts.add(session, "khoa-1", "mat-khau-2", groups=["mot-cua"])
        account_admin.set_disabled(session, "khoa-1", True)
        accounts.add(session, "bot", service=True, groups=["mot-cua"])


def through_the_province(web: requests.Session, base: str, next_path: str = "/can-bo/") -> requests.Response:
    """Open the sign-in page, press the province's button and follow the browser's way back."""
    page = web.get(f"{base}/can-bo/dang-nhap", params={"next": next_path}, timeout=10)
    assert page.status_code == 200 and BUTTON in page.text
    href = re.search(r'href="([^"]+)">' + BUTTON, page.text).group(1).replace("&amp;", "&")
    return web.get(base + href, timeout=10)


def signed_in(web: requests.Session, base: str) -> bool:
    return web.get(f"{base}/can-bo/", timeout=10, allow_redirects=False).status_code == 200


def test_an_officer_signs_in_through_the_province_and_lands_where_they_were_going(live_server, province, officers):
    province.claims = {"sub": "id-77", "preferred_username": "tinh-1", "name": "Đỗ Văn Tỉnh"}
    web = requests.Session()
    page = through_the_province(web, live_server.url, "/can-bo/?han=overdue")
    assert page.status_code == 200 and page.url == f"{live_server.url}/can-bo/?han=overdue"
    assert "tinh-1 · 000.00.16.H56" in page.text and len(province.redeemed) == 1  # the code, with its verifier
    assert signed_in(web, live_server.url)


@pytest.mark.parametrize("name, words", [
    ("khong-co", "chưa có tài khoản “khong-co” trong hệ thống Một cửa"),
    ("khoa-1", "tài khoản “khoa-1” đã bị khóa"),
    ("bot", "“bot” là tài khoản dịch vụ"),
])
def test_unknown_disabled_and_service_accounts_are_refused(live_server, province, officers, name, words):
    province.claims = {"sub": "id-1", "preferred_username": name}
    web = requests.Session()
    page = through_the_province(web, live_server.url)
    assert page.status_code == 403 and "Có lỗi cần sửa" in page.text and words in page.text
    assert 'href="#tinh"' in page.text and 'id="tinh"' in page.text and not signed_in(web, live_server.url)


def test_a_missing_claim_a_foreign_nonce_or_a_forged_state_is_refused(live_server, province, officers):
    province.claims = {"sub": "id-1"}
    web = requests.Session()
    page = through_the_province(web, live_server.url)
    assert page.status_code == 403 and "không cho biết tên tài khoản (preferred_username)" in page.text
    province.claims, province.nonce_override = {"sub": "id-1", "preferred_username": "tinh-1"}, "another-sign-in"
    page = through_the_province(web, live_server.url)
    assert page.status_code == 400 and "thẻ định danh (ID token) không hợp lệ" in page.text
    province.nonce_override = None
    start = web.get(f"{live_server.url}/can-bo/dang-nhap/tinh", timeout=10, allow_redirects=False)
    answer = web.get(start.headers["Location"], timeout=10, allow_redirects=False)
    page = web.get(answer.headers["Location"].replace("state=", "state=forged"), timeout=10)
    assert page.status_code == 400 and "phiên đăng nhập đã hết hạn hoặc không khớp" in page.text
    assert not signed_in(web, live_server.url)
    # the password form of the refusal page still signs in
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    done = web.post(live_server.url + action, data={"csrf_token": token, "ten": "can-bo-1", "mat_khau": "mat-khau-1"},
                    timeout=10)
    assert done.url == f"{live_server.url}/can-bo/" and signed_in(web, live_server.url)


def test_the_configured_claim_names_the_account(settings, factory, province, officers):
    app = create_app(dataclasses.replace(settings, officer_oidc_claim="ma_can_bo"), factory)
    server = LiveServer(app)
    try:
        province.claims = {"sub": "id-2", "preferred_username": "can-bo-1", "ma_can_bo": "tinh-1"}
        page = through_the_province(requests.Session(), server.url)
        assert page.status_code == 200 and "tinh-1 · 000.00.16.H56" in page.text
    finally:
        server.stop()


def test_without_a_province_provider_there_is_no_button(settings, factory):
    app = create_app(dataclasses.replace(settings, officer_oidc_issuer=None), factory)
    client = app.test_client()
    assert BUTTON not in client.get("/can-bo/dang-nhap").get_data(as_text=True)
    assert client.get("/can-bo/dang-nhap/tinh").status_code == 404
    assert client.get("/can-bo/dang-nhap/tinh/xong?code=x&state=y").status_code == 404


def test_an_account_made_without_a_password_on_the_admin_page_signs_in_through_the_province(
        app, live_server, province, officers, factory):
    with db.transaction(factory) as session:
        accounts.add(session, "quan-tri", "mat-khau-quan-tri", groups=["admin"])
    admin = app.test_client()
    sign_in(admin, "quan-tri", "mat-khau-quan-tri")
    form = admin.get("/quan-tri/tai-khoan/moi").get_data(as_text=True)
    assert "Để trống nếu cán bộ chỉ đăng nhập bằng tài khoản của tỉnh" in form
    made = admin.post("/quan-tri/tai-khoan/moi", data={"csrf_token": csrf(admin, "/quan-tri/tai-khoan/moi"),
                                                       "ten": "tinh-2", "nhom_khac": "mot-cua"})
    assert made.status_code == 302
    summary = admin.get(made.headers["Location"]).get_data(as_text=True)
    assert "Chưa đặt (chỉ đăng nhập bằng tài khoản của tỉnh)" in summary
    province.claims = {"sub": "id-3", "preferred_username": "tinh-2"}
    page = through_the_province(requests.Session(), live_server.url)
    assert page.status_code == 200 and "tinh-2" in page.text and "Hộp việc" in page.text
