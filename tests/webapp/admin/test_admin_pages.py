"""The admin pages: only the admin group gets in; accounts, agencies and groups are created and changed through
forms with CSRF tokens, errors are told in Vietnamese in an error summary, and what is saved takes effect."""
from __future__ import annotations

import re

import pytest

from engine import accounts, agencies, db
from tests.conftest import basic
from tests.webapp.inbox.test_inbox_pages import csrf, sign_in


@pytest.fixture
def office(factory):
    """An administrator and an officer, both with passwords."""
    with db.transaction(factory) as session:
        accounts.add(session, "quan-tri", "mat-khau-quan-tri", groups=["admin"])
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency="000.00.00.H56")
    return factory


@pytest.fixture
def admin(app, office):
    client = app.test_client()
    assert sign_in(client, "quan-tri", "mat-khau-quan-tri").status_code == 302
    return client


def post(client, path, data, page=None):
    """Post a form with the CSRF token of the page it is on (``page``, else ``path``)."""
    return client.post(path, data={"csrf_token": csrf(client, page or path), **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def account(factory, name):
    with db.transaction(factory) as session:
        return {r["name"]: r for r in accounts.listing(session)}.get(name)


def test_only_administrators_get_in_and_others_are_sent_to_sign_in(app, office):
    stranger = app.test_client()
    redirect = stranger.get("/quan-tri/co-quan")
    assert redirect.status_code == 302
    assert redirect.headers["Location"].endswith("/can-bo/dang-nhap?next=/quan-tri/co-quan")
    officer = app.test_client()
    sign_in(officer, "can-bo-1", "mat-khau-1")
    assert officer.get("/quan-tri/tai-khoan").status_code == 403
    assert "Quản trị" not in text(officer.get("/can-bo/"))
    refused = officer.post("/quan-tri/nhom", data={"csrf_token": csrf(officer, "/can-bo/"), "ten": "x",
                                                   "ten_nhom": "X"})
    assert refused.status_code == 403
    client = app.test_client()
    back = client.post("/can-bo/dang-nhap?next=/quan-tri/co-quan", data={
        "csrf_token": csrf(client, "/can-bo/dang-nhap"), "ten": "quan-tri", "mat_khau": "mat-khau-quan-tri"})
    assert back.headers["Location"] == "/quan-tri/co-quan"  # brought back to the admin page after signing in
    page = client.get("/quan-tri/tai-khoan")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    assert 'href="/quan-tri/tai-khoan"' in text(client.get("/can-bo/"))  # the inbox's header links here


def test_the_account_list_shows_agency_groups_and_state(admin, office):
    with db.transaction(office) as session:
        agencies.add_agency(session, "000.00.00.H56", "Ủy ban nhân dân xã Một")
        accounts.add(session, "bot", service=True)
    html = text(admin.get("/quan-tri/tai-khoan"))
    row = re.search(r"<tr>\s*<td><a[^>]*>can-bo-1</a>.*?</tr>", html, re.S).group(0)
    assert "000.00.00.H56 – Ủy ban nhân dân xã Một" in row and "mot-cua" in row and "Đang hoạt động" in row
    assert "Tài khoản dịch vụ" in re.search(r"<tr>\s*<td><a[^>]*>bot</a>.*?</tr>", html, re.S).group(0)


def test_creating_an_account_tells_every_mistake_then_the_account_signs_in(app, admin, office):
    with db.transaction(office) as session:
        agencies.add_agency(session, "000.00.16.H56", "Công an tỉnh")
        agencies.add_group(session, "mot-cua", "Bộ phận Một cửa")
    form = "/quan-tri/tai-khoan/moi"
    assert 'name="co_quan"' in text(admin.get(form)) and "Bộ phận Một cửa (mot-cua)" in text(admin.get(form))
    wrong = post(admin, form, {"ten": "Cán Bộ", "mat_khau": "ngan", "mat_khau_2": "ngan", "co_quan": "000.00.99.H56",
                               "nhom": ["mot-cua", "chuyen-vien"]})
    html = text(wrong)
    assert wrong.status_code == 400 and "Có lỗi cần sửa" in html and "<title>Lỗi:" in html
    for words in ("Tên đăng nhập gồm 2–100 ký tự", "Mật khẩu phải có ít nhất 8 ký tự",
                  "Cơ quan “000.00.99.H56” chưa được khai báo", "Nhóm chưa được khai báo: chuyen-vien"):
        assert words in html
    assert 'href="#ten"' in html and 'href="#nhom"' in html and 'id="nhom"' in html
    mismatch = post(admin, form, {"ten": "can-bo-2", "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-khac"})
    assert "Hai lần nhập mật khẩu không khớp" in text(mismatch) and 'value="can-bo-2"' in text(mismatch)
    taken = post(admin, form, {"ten": "can-bo-1", "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-dai"})
    assert taken.status_code == 400 and "Đã có tài khoản tên “can-bo-1”" in text(taken)
    assert "Để trống nếu cán bộ chỉ đăng nhập" not in text(taken)  # a password is needed without the province's sign-in
    assert "Nhập mật khẩu" in text(post(admin, form, {"ten": "can-bo-3"}))

    made = post(admin, form, {"ten": "can-bo-2", "ten_hien_thi": " Lê  Thị Hoa ", "co_quan": "000.00.16.H56",
                              "nhom": ["mot-cua"], "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-dai"})
    assert made.status_code == 302 and made.headers["Location"] == "/quan-tri/tai-khoan/can-bo-2"
    assert "Đã tạo tài khoản can-bo-2." in text(admin.get("/quan-tri/tai-khoan/can-bo-2"))
    saved = account(office, "can-bo-2")
    assert (saved["displayName"], saved["agency"], saved["groups"]) == ("Lê Thị Hoa", "000.00.16.H56", ["mot-cua"])
    assert sign_in(app.test_client(), "can-bo-2", "mat-khau-dai").status_code == 302


def test_without_defined_groups_or_agencies_names_are_typed(admin, office):
    form = "/quan-tri/tai-khoan/moi"
    html = text(admin.get(form))
    assert 'id="nhom_khac"' in html and '<select class="select' not in html
    wrong = post(admin, form, {"ten": "can-bo-2", "co_quan": "000..H56", "nhom_khac": "mot-cua, Lanh Dao",
                               "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-dai"})
    assert "Mã cơ quan gồm chữ và số" in text(wrong) and "“Lanh Dao”: tên nhóm gồm" in text(wrong)
    assert post(admin, form, {"ten": "can-bo-2", "co_quan": "H12", "nhom_khac": "mot-cua, lanh-dao",
                              "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-dai"}).status_code == 302
    assert account(office, "can-bo-2")["groups"] == ["lanh-dao", "mot-cua"]


def test_editing_an_account_changes_its_groups_agency_and_name(app, admin, office):
    with db.transaction(office) as session:
        agencies.add_agency(session, "000.00.00.H56", "Ủy ban nhân dân xã")
        agencies.add_agency(session, "000.00.16.H56", "Công an tỉnh")
        agencies.add_group(session, "lanh-dao", "Lãnh đạo")
    page = "/quan-tri/tai-khoan/can-bo-1"
    html = text(admin.get(page))
    assert "Bộ phận" not in html and "mot-cua (mot-cua)" not in html and "chưa khai báo (mot-cua)" in html
    saved = post(admin, page, {"ten_hien_thi": "Phạm Văn Tâm", "co_quan": "000.00.16.H56", "nhom": ["lanh-dao"],
                               "ly_do": "Điều động sang Công an tỉnh"})
    assert saved.status_code == 302
    after = account(office, "can-bo-1")
    assert (after["displayName"], after["agency"], after["groups"]) == ("Phạm Văn Tâm", "000.00.16.H56", ["lanh-dao"])
    assert "Đã lưu thay đổi." in text(admin.get(page))
    officer = app.test_client()
    sign_in(officer, "can-bo-1", "mat-khau-1")
    assert "can-bo-1 · 000.00.16.H56" in text(officer.get("/can-bo/"))  # the officer's pages follow at once
    assert "Nhóm chưa được khai báo: mot-cua" in text(post(admin, page, {"nhom": ["mot-cua"], "ly_do": "Thử lại"}))
    assert admin.get("/quan-tri/tai-khoan/khong-co").status_code == 404


def test_an_administrator_cannot_lock_themselves_out(admin, office):
    page = "/quan-tri/tai-khoan/quan-tri"
    dropped = post(admin, page, {"nhom_khac": "mot-cua", "ly_do": "Chuyển sang Một cửa"})
    assert dropped.status_code == 400 and "Không thể tự bỏ nhóm admin của chính mình" in text(dropped)
    locked = post(admin, page + "/khoa", {"ly_do_khoa": "Thử tự khóa"}, page)
    assert locked.status_code == 400 and "Không thể tự khóa tài khoản của chính mình" in text(locked)
    assert account(office, "quan-tri")["disabled"] is False and account(office, "quan-tri")["groups"] == ["admin"]


def test_disabling_ends_the_officers_session_and_enabling_lets_them_back(app, admin, office):
    officer = app.test_client()
    sign_in(officer, "can-bo-1", "mat-khau-1")
    assert officer.get("/can-bo/").status_code == 200
    page = "/quan-tri/tai-khoan/can-bo-1"
    assert post(admin, page + "/khoa", {"ly_do_khoa": "Cán bộ nghỉ hưu"}, page).status_code == 302
    assert "Đã khóa" in text(admin.get(page)) and account(office, "can-bo-1")["disabled"] is True
    assert officer.get("/can-bo/").status_code == 302  # signed out at their next request
    assert sign_in(officer, "can-bo-1", "mat-khau-1").status_code == 401
    assert post(admin, page + "/mo-khoa", {"ly_do_khoa": "Khóa nhầm người"}, page).status_code == 302
    assert sign_in(officer, "can-bo-1", "mat-khau-1").status_code == 302


def test_resetting_a_password(app, admin, office):
    page = "/quan-tri/tai-khoan/can-bo-1"
    short = post(admin, page + "/mat-khau", {"mat_khau": "1234567", "mat_khau_2": "1234567",
                                             "ly_do_mat_khau": "Cán bộ quên mật khẩu"}, page)
    assert short.status_code == 400 and "Mật khẩu phải có ít nhất 8 ký tự" in text(short)
    assert ">Cán bộ quên mật khẩu</textarea>" in text(short)  # the reason typed is kept, the passwords are not
    assert post(admin, page + "/mat-khau", {"mat_khau": "mat-khau-moi", "mat_khau_2": "mat-khau-moi",
                                            "ly_do_mat_khau": "Cán bộ quên mật khẩu"}, page).status_code == 302
    assert "Đã đặt mật khẩu mới cho can-bo-1." in text(admin.get(page))
    assert sign_in(app.test_client(), "can-bo-1", "mat-khau-1").status_code == 401
    assert sign_in(app.test_client(), "can-bo-1", "mat-khau-moi").status_code == 302


def test_every_form_needs_its_csrf_token(admin):
    reasons = {"ly_do": "Đủ lý do", "ly_do_khoa": "Đủ lý do"}  # so that only the token is missing
    for path in ("/quan-tri/tai-khoan/moi", "/quan-tri/tai-khoan/can-bo-1/khoa", "/quan-tri/co-quan", "/quan-tri/nhom"):
        assert admin.post(path, data={"ten": "x-1", "ma": "H1", "ten_nhom": "X", **reasons}).status_code == 400
    assert "Đã khóa" not in text(admin.get("/quan-tri/tai-khoan/can-bo-1"))
    assert admin.get("/quan-tri/co-quan").status_code == 200 and admin.get("/quan-tri/nhom").status_code == 200


def test_agencies_are_added_renamed_and_disabled(admin, office):
    page = "/quan-tri/co-quan"
    assert "Chưa khai báo cơ quan nào" in text(admin.get(page))
    wrong = post(admin, page, {"ma": "000.00 16", "ten": ""})
    assert wrong.status_code == 400 and "Mã cơ quan gồm chữ và số" in text(wrong) and "Nhập tên cơ quan" in text(wrong)
    assert post(admin, page, {"ma": "000.00.16.H56", "ten": "Công an tỉnh"}).status_code == 302
    assert post(admin, page, {"ma": "000.00.16.H56.P1", "ten": "Phòng Hồ sơ", "co_quan_cha": "000.00.16.H56"}
                ).status_code == 302
    html = text(admin.get(page))
    assert "Đã thêm cơ quan 000.00.16.H56.P1." in html and "<td>Phòng Hồ sơ</td><td>000.00.16.H56</td>" in html
    again = post(admin, page, {"ma": "000.00.16.H56", "ten": "Lần hai"})
    assert again.status_code == 400 and "Đã có cơ quan mã “000.00.16.H56”" in text(again)

    edit = f"{page}/000.00.16.H56"
    assert "Nhập tên cơ quan" in text(post(admin, edit, {"ten": " ", "ly_do": "Đổi tên theo tỉnh"}))
    assert post(admin, edit, {"ten": "Công an tỉnh Thanh Hóa", "ly_do": "Đổi tên theo tỉnh"}).status_code == 302
    assert 'href="/quan-tri/co-quan/000.00.16.H56.P1">Đổi tên, ngừng hoạt động' in text(admin.get(page))
    assert post(admin, f"{edit}.P1/ngung", {"ly_do_trang_thai": "Phòng giải thể"}, page).status_code == 302
    with db.transaction(office) as session:
        listed = {a["code"]: a for a in agencies.agencies(session)}
    assert listed["000.00.16.H56"]["name"] == "Công an tỉnh Thanh Hóa" and listed["000.00.16.H56.P1"]["disabled"]
    new_account = text(admin.get("/quan-tri/tai-khoan/moi"))
    assert "000.00.16.H56 – Công an tỉnh Thanh Hóa" in new_account and 'value="000.00.16.H56.P1"' not in new_account
    assert "Cho hoạt động trở lại" in text(admin.get(f"{edit}.P1"))
    assert post(admin, f"{edit}.P1/hoat-dong", {"ly_do_trang_thai": "Ngừng nhầm"}, page).status_code == 302
    assert 'value="000.00.16.H56.P1"' in text(admin.get("/quan-tri/tai-khoan/moi"))
    assert admin.get(f"{page}/999").status_code == 404


def test_groups_are_added_and_retitled(admin, office):
    page = "/quan-tri/nhom"
    assert "Quản trị hệ thống" in text(admin.get(page)) and "Chưa khai báo nhóm nào" in text(admin.get(page))
    wrong = post(admin, page, {"ten": "Một cửa", "ten_nhom": ""})
    assert wrong.status_code == 400 and "Tên nhóm gồm 1–100 ký tự" in text(wrong)
    assert "Nhập tên gọi của nhóm" in text(wrong)
    assert "Đã có nhóm “admin”" in text(post(admin, page, {"ten": "admin", "ten_nhom": "Quản trị"}))
    assert post(admin, page, {"ten": "mot-cua", "ten_nhom": "Bộ phận Một cửa"}).status_code == 302
    assert post(admin, f"{page}/mot-cua", {"ten_nhom": "Bộ phận Tiếp nhận và Trả kết quả",
                                           "ly_do": "Tên theo Nghị định 61"}).status_code == 302
    html = text(admin.get(page))
    assert "Bộ phận Tiếp nhận và Trả kết quả" in html and "Chưa khai báo nhóm nào" not in html
    assert re.search(r"<td>mot-cua</td><td>Bộ phận Tiếp nhận và Trả kết quả</td><td>1</td>", html)
    assert admin.get(f"{page}/admin").status_code == 404  # the built-in group keeps its title


def test_the_rest_api_follows_a_disabled_account_at_once(app, admin, office):
    headers = basic("can-bo-1", "mat-khau-1")
    assert app.test_client().get("/engine-rest/task", headers=headers).status_code == 200  # now remembered
    page = "/quan-tri/tai-khoan/can-bo-1"
    assert post(admin, page + "/khoa", {"ly_do_khoa": "Lộ mật khẩu"}, page).status_code == 302
    assert app.test_client().get("/engine-rest/task", headers=headers).status_code == 401
