"""Citizens sign in through OpenID Connect (code + PKCE + nonce) against the VNeID stand-in over real HTTP; every
forged, replayed or mismatched piece is refused with a page in words, and the session is protected."""
from __future__ import annotations

import re
import time

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from webapp import oidc
from workers.registry import SyntheticRegistry

CITIZEN = SyntheticRegistry(3000, 2026).numbers()[0]
PROFILE = SyntheticRegistry(3000, 2026).lookup(CITIZEN)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def start(web: requests.Session, base: str, next_path: str = "/tai-khoan") -> requests.Response:
    """Ask the portal to sign in; end on the stand-in's login form."""
    form = web.get(f"{base}/dang-nhap", params={"next": next_path}, timeout=10)
    assert form.status_code == 200 and "Máy chủ định danh THỬ NGHIỆM" in form.text
    return form


def sign_in(web, base, number=CITIZEN, password="demo", next_path="/tai-khoan") -> requests.Response:
    form = start(web, base, next_path)
    fields = {**hidden_fields(form.text), "so_dinh_danh": number, "mat_khau": password}
    return web.post(form.url.split("?")[0], data=fields, timeout=10)


def test_a_citizen_signs_in_and_lands_where_they_were_going(live_server):
    web = requests.Session()
    page = sign_in(web, live_server.url)
    assert page.status_code == 200 and page.url == f"{live_server.url}/tai-khoan"
    assert PROFILE.full_name in page.text and CITIZEN in page.text and "Đăng xuất" in page.text
    cookie = next(c for c in web.cookies if c.name == "motcua_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    raw = requests.get(f"{live_server.url}/dang-nhap", timeout=10, allow_redirects=False).headers["Set-Cookie"]
    assert "SameSite=Lax" in raw and "HttpOnly" in raw


@pytest.mark.parametrize("number, password, words", [
    (CITIZEN, "sai-mat-khau", "Mật khẩu không đúng"),
    ("012345678901", "demo", "Số định danh cá nhân không đúng hoặc không có trong hệ thống"),
    ("12abc", "demo", "Số định danh cá nhân không đúng"),
])
def test_wrong_credentials_show_the_error_summary_and_keep_the_number(live_server, number, password, words):
    page = sign_in(requests.Session(), live_server.url, number, password)
    assert page.status_code == 400 and "Có lỗi cần sửa" in page.text and words in page.text
    assert f'value="{number}"' in page.text and "<title>Lỗi:" in page.text


def test_the_account_page_asks_for_a_sign_in_first(live_server):
    page = requests.get(f"{live_server.url}/tai-khoan", timeout=10)
    assert "Máy chủ định danh THỬ NGHIỆM" in page.text  # sent to the provider's login form


def test_a_foreign_next_address_is_not_followed(live_server):
    page = sign_in(requests.Session(), live_server.url, next_path="https://lua-dao.example/")
    assert page.url == f"{live_server.url}/thu-tuc"


def test_a_callback_with_another_state_is_refused(live_server):
    web = requests.Session()
    form = start(web, live_server.url)
    fields = {**hidden_fields(form.text), "so_dinh_danh": CITIZEN, "mat_khau": "demo"}
    answer = web.post(form.url.split("?")[0], data=fields, timeout=10, allow_redirects=False)
    callback = answer.headers["Location"].replace("state=", "state=forged")
    page = web.get(callback, timeout=10)
    assert page.status_code == 400 and "phiên đăng nhập đã hết hạn hoặc không khớp" in page.text
    assert "Đăng xuất" not in page.text


def code_for(web, base) -> tuple[str, dict]:
    form = start(web, base)
    fields = {**hidden_fields(form.text), "so_dinh_danh": CITIZEN, "mat_khau": "demo"}
    answer = web.post(form.url.split("?")[0], data=fields, timeout=10, allow_redirects=False)
    return re.search(r"code=([^&]+)", answer.headers["Location"]).group(1), fields


def test_the_token_endpoint_wants_the_pkce_verifier_the_client_and_a_fresh_code(live_server, app):
    settings = app.extensions["motcua"].settings
    web = requests.Session()
    code, fields = code_for(web, live_server.url)
    token_url = f"{live_server.url}/sandbox-vneid/token"
    base = {"grant_type": "authorization_code", "code": requests.utils.unquote(code),
            "redirect_uri": fields["redirect_uri"], "client_id": settings.oidc_client_id}
    assert requests.post(token_url, data={**base, "client_secret": "wrong", "code_verifier": "x" * 64},
                         timeout=10).json()["error"] == "invalid_client"
    wrong = requests.post(token_url, data={**base, "client_secret": settings.oidc_client_secret,
                                           "code_verifier": "y" * 64}, timeout=10)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # a code is redeemed once: after that attempt it cannot be redeemed again
    again = requests.post(token_url, data={**base, "client_secret": settings.oidc_client_secret,
                                           "code_verifier": "y" * 64}, timeout=10)
    assert again.json()["error"] == "invalid_grant"
    forged = requests.post(token_url, data={**base, "code": code[:-6] + "AAAAAA",
                                            "client_secret": settings.oidc_client_secret}, timeout=10)
    assert forged.json()["error"] == "invalid_grant"


def test_an_id_token_signed_by_another_key_or_for_another_nonce_is_refused():
    ours, theirs = RSAKey.generate_key(2048, parameters={"kid": "k"}), RSAKey.generate_key(2048, parameters={"kid": "k"})
    keys = {"keys": [ours.as_dict(private=False)]}
    pending = {"issuer": "https://id.example", "nonce": "n-1"}
    claims = {"iss": "https://id.example", "aud": "motcua-portal", "sub": "s", "exp": int(time.time()) + 60,
              "nonce": "n-1", "so_dinh_danh": CITIZEN}
    good = jwt.encode({"alg": "RS256", "kid": "k"}, claims, ours)
    assert oidc.verified(good, keys, pending, "motcua-portal")["so_dinh_danh"] == CITIZEN
    for token, audience, nonce in [(jwt.encode({"alg": "RS256", "kid": "k"}, claims, theirs), "motcua-portal", "n-1"),
                                   (good, "another-client", "n-1"), (good, "motcua-portal", "n-2"),
                                   (jwt.encode({"alg": "RS256", "kid": "k"}, {**claims, "exp": 1}, ours),
                                    "motcua-portal", "n-1")]:
        with pytest.raises(Exception) as err:
            oidc.verified(token, keys, {**pending, "nonce": nonce}, audience)
        assert type(err.value).__module__.startswith("joserfc")
    assert KeySet.import_key_set(keys)


def test_signing_out_needs_the_csrf_token(live_server):
    web = requests.Session()
    page = sign_in(web, live_server.url)
    refused = web.post(f"{live_server.url}/dang-xuat", timeout=10)
    assert refused.status_code == 400 and "Đăng xuất" in web.get(f"{live_server.url}/tai-khoan", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    out = web.post(f"{live_server.url}/dang-xuat", data={"csrf_token": token}, timeout=10)
    assert out.url == f"{live_server.url}/thu-tuc" and "Đăng nhập" in out.text and "Đăng xuất" not in out.text


def test_the_stand_ins_password_check_stops_after_ten_tries(live_server):
    web = requests.Session()
    answers = [sign_in(web, live_server.url, password="sai").status_code for _ in range(11)]
    assert answers[:10] == [400] * 10 and answers[10] == 429
    assert "Đăng nhập sai quá nhiều lần" in sign_in(web, live_server.url).text


def test_only_failed_sign_ins_count_toward_the_stand_ins_limit(live_server):
    for _ in range(11):
        assert sign_in(requests.Session(), live_server.url).status_code == 200
    assert sign_in(requests.Session(), live_server.url, password="sai").status_code == 400


def test_without_a_provider_or_the_stand_in_switched_on_nobody_signs_in(settings, factory):
    import dataclasses

    from webapp.app import create_app
    app = create_app(dataclasses.replace(settings, vneid_standin=False, oidc_issuer=None), factory)
    client = app.test_client()
    page = client.get("/dang-nhap")
    assert page.status_code == 503 and "MOTCUA_OIDC_ISSUER" in page.get_data(as_text=True)
    assert client.get("/sandbox-vneid/.well-known/openid-configuration").status_code == 404


def test_a_copied_cookie_is_refused_once_the_citizen_signs_out(live_server):
    web = requests.Session()
    page = sign_in(web, live_server.url)
    copied = web.cookies.get("motcua_session")  # what someone at a shared commune computer could take away
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    web.post(f"{live_server.url}/dang-xuat", data={"csrf_token": token}, timeout=10)
    thief = requests.Session()
    thief.cookies.set("motcua_session", copied)
    answer = thief.get(f"{live_server.url}/tai-khoan", timeout=10, allow_redirects=False)
    assert answer.status_code == 302 and "/dang-nhap" in answer.headers["Location"]


def authorize_query(base: str, **change) -> dict[str, str]:
    """An authorization request as the portal sends it (its own client, its own callback, PKCE S256)."""
    query = {"response_type": "code", "client_id": "motcua-portal", "scope": "openid profile",
             "redirect_uri": f"{base}/dang-nhap/xong", "state": "s-1", "nonce": "n-1",
             "code_challenge": "c" * 43, "code_challenge_method": "S256"}
    return {**query, **change}


FOREIGN = ["https://lua-dao.example/dang-nhap/xong", "{base}/dang-nhap/xong/../../lay-ma",
           "{base}/dang-nhap/xong?tiep=https://lua-dao.example", "{base}/dang-nhap/xong/", "{base}/dang-nhap",
           "{base}.lua-dao.example/dang-nhap/xong", "{base}/dang-nhap/xong#frag", "//lua-dao.example/dang-nhap/xong"]


@pytest.mark.parametrize("redirect_uri", FOREIGN)
def test_an_unregistered_redirect_uri_is_refused_with_a_page_and_no_redirect(live_server, redirect_uri):
    """RFC 6749 §3.1.2.4, OpenID Connect Core §3.1.2.1: only a redirect URI registered exactly for the client."""
    uri = redirect_uri.format(base=live_server.url)
    web = requests.Session()
    shown = web.get(f"{live_server.url}/sandbox-vneid/authorize", params=authorize_query(live_server.url,
                                                                                          redirect_uri=uri),
                    timeout=10, allow_redirects=False)
    assert shown.status_code == 400 and "Location" not in shown.headers
    assert "redirect_uri" in shown.text and "chưa được đăng ký" in shown.text and 'name="mat_khau"' not in shown.text
    # the login form's hidden field changed on its way back: the right credentials still get no code anywhere
    form = start(web, live_server.url)
    fields = {**hidden_fields(form.text), "so_dinh_danh": CITIZEN, "mat_khau": "demo", "redirect_uri": uri}
    answer = web.post(form.url.split("?")[0], data=fields, timeout=10, allow_redirects=False)
    assert answer.status_code == 400 and "Location" not in answer.headers and "code=" not in answer.text


def test_an_unknown_client_is_refused_with_a_page_and_no_redirect(live_server):
    answer = requests.get(f"{live_server.url}/sandbox-vneid/authorize", timeout=10, allow_redirects=False,
                          params=authorize_query(live_server.url, client_id="ung-dung-la"))
    assert answer.status_code == 400 and "Location" not in answer.headers and "client_id" in answer.text


def test_the_registered_callback_still_gets_its_code(live_server):
    web = requests.Session()
    code, fields = code_for(web, live_server.url)
    assert code and fields["redirect_uri"] == f"{live_server.url}/dang-nhap/xong"


def test_the_token_endpoint_wants_the_redirect_uri_the_code_was_issued_for(live_server, app):
    settings = app.extensions["motcua"].settings
    web = requests.Session()
    code, fields = code_for(web, live_server.url)
    pkce_ok = {"grant_type": "authorization_code", "code": requests.utils.unquote(code),
               "client_id": settings.oidc_client_id, "client_secret": settings.oidc_client_secret}
    for other in (f"{live_server.url}/dang-nhap/xong/", "https://lua-dao.example/dang-nhap/xong", None):
        data = {**pkce_ok, "code_verifier": "v" * 64} | ({"redirect_uri": other} if other else {})
        answer = requests.post(f"{live_server.url}/sandbox-vneid/token", data=data, timeout=10)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_more_than_one_callback_may_be_registered(settings, factory):
    import dataclasses

    from webapp.app import create_app
    app = create_app(dataclasses.replace(settings, oidc_redirect_uris=("https://dvc.example/dang-nhap/xong",
                                                                       "http://localhost/dang-nhap/xong")), factory)
    client = app.test_client()
    for uri, status in [("https://dvc.example/dang-nhap/xong", 200), ("http://localhost/dang-nhap/xong", 200),
                        (f"{settings.public_url}/dang-nhap/xong", 400)]:
        answer = client.get("/sandbox-vneid/authorize", query_string=authorize_query("", redirect_uri=uri))
        assert answer.status_code == status, uri
