"""The admin pages' changes are in the audit log under the signed-in administrator's name, with the reason typed in
the form's "Lý do" field: required for every change to an account, an agency or a group that exists (a missing one
is told in the error summary and changes nothing), optional when adding one."""
from __future__ import annotations

import pytest

from engine import account_admin, accounts, agencies, audit, db
from engine.models import Account
from tests.webapp.admin.test_admin_pages import admin, office, post, text  # noqa: F401  (fixtures)

REASON = "Theo Quyết định số 12/QĐ-UBND"
ACCOUNT = "/quan-tri/tai-khoan/can-bo-1"
AGENCY = "/quan-tri/co-quan/000.00.00.H56"


def _disable_account(session):
    account_admin.set_disabled(session, "can-bo-1", True)


def _disable_agency(session):
    agencies.set_agency_disabled(session, "000.00.00.H56", True)


# action, where the form posts, the page it is on (None: the same), the form without its reason, the reason field,
# the target, what to do first (as "system"), the error told when the reason is missing (None: optional)
CHANGES = [
    ("account_add", "/quan-tri/tai-khoan/moi", None,
     {"ten": "can-bo-2", "mat_khau": "mat-khau-dai", "mat_khau_2": "mat-khau-dai", "nhom": ["mot-cua"]},
     "ly_do", "can-bo-2", None, None),
    ("account_change", ACCOUNT, None, {"ten_hien_thi": "Phạm Văn Tâm", "co_quan": "000.00.00.H56", "nhom": ["mot-cua"]},
     "ly_do", "can-bo-1", None, "Ghi lý do thay đổi tài khoản (ít nhất 5 ký tự)"),
    ("password_set", ACCOUNT + "/mat-khau", ACCOUNT, {"mat_khau": "mat-khau-moi", "mat_khau_2": "mat-khau-moi"},
     "ly_do_mat_khau", "can-bo-1", None, "Ghi lý do đặt mật khẩu mới (ít nhất 5 ký tự)"),
    ("account_disable", ACCOUNT + "/khoa", ACCOUNT, {}, "ly_do_khoa", "can-bo-1", None,
     "Ghi lý do khóa tài khoản (ít nhất 5 ký tự)"),
    ("account_enable", ACCOUNT + "/mo-khoa", ACCOUNT, {}, "ly_do_khoa", "can-bo-1", _disable_account,
     "Ghi lý do mở khóa tài khoản (ít nhất 5 ký tự)"),
    ("agency_add", "/quan-tri/co-quan", None, {"ma": "000.00.16.H56", "ten": "Công an tỉnh"}, "ly_do",
     "000.00.16.H56", None, None),
    ("agency_rename", AGENCY, None, {"ten": "Ủy ban nhân dân phường Một"}, "ly_do", "000.00.00.H56", None,
     "Ghi lý do đổi tên cơ quan (ít nhất 5 ký tự)"),
    ("agency_disable", AGENCY + "/ngung", AGENCY, {}, "ly_do_trang_thai", "000.00.00.H56", None,
     "Ghi lý do ngừng hoạt động cơ quan (ít nhất 5 ký tự)"),
    ("agency_enable", AGENCY + "/hoat-dong", AGENCY, {}, "ly_do_trang_thai", "000.00.00.H56", _disable_agency,
     "Ghi lý do cho cơ quan hoạt động trở lại (ít nhất 5 ký tự)"),
    ("group_add", "/quan-tri/nhom", None, {"ten": "tu-phap", "ten_nhom": "Tư pháp"}, "ly_do", "tu-phap", None, None),
    ("group_retitle", "/quan-tri/nhom/mot-cua", None, {"ten_nhom": "Bộ phận Tiếp nhận và Trả kết quả"}, "ly_do",
     "mot-cua", None, "Ghi lý do đổi tên gọi nhóm (ít nhất 5 ký tự)"),
]
REQUIRED = [c for c in CHANGES if c[7]]


@pytest.fixture
def defined(office):  # noqa: F811
    """An agency and a group defined (by "system"), so that each admin page has something to change."""
    with db.transaction(office) as session:
        agencies.add_agency(session, "000.00.00.H56", "Ủy ban nhân dân xã Một")
        agencies.add_group(session, "mot-cua", "Bộ phận Một cửa")
    return office


def by_admin(factory) -> list[tuple[str, str, str | None]]:
    """What the administrator did, newest first: (action, target, reason)."""
    with db.transaction(factory) as session:
        return [(r["action"], r["targetId"], r["reason"]) for r in audit.listing(session, actor="quan-tri")]


def state(factory) -> tuple:
    """Everything the admin pages can change, secrets included (to see that a refused form changed nothing)."""
    with db.transaction(factory) as session:
        password = session.get(Account, "can-bo-1").password_hash
        return accounts.listing(session), agencies.agencies(session), agencies.groups(session), password


def prepare(factory, before) -> None:
    if before is not None:
        with db.transaction(factory) as session:
            before(session)


@pytest.mark.parametrize("action, path, page, form, field, target, before, _", CHANGES, ids=[c[0] for c in CHANGES])
def test_each_change_is_audited_with_its_reason(admin, defined, action, path, page, form, field, target, before, _):
    prepare(defined, before)
    done = post(admin, path, {**form, field: f"  {REASON}\r\nĐã báo trưởng phòng.  "}, page)
    assert done.status_code == 302, text(done)
    assert by_admin(defined) == [(action, target, f"{REASON}\nĐã báo trưởng phòng.")]


@pytest.mark.parametrize("action, path, page, form, field, target, before, message", REQUIRED,
                         ids=[c[0] for c in REQUIRED])
def test_a_change_without_its_reason_is_refused_and_changes_nothing(admin, defined, action, path, page, form, field,
                                                                    target, before, message):
    prepare(defined, before)
    before_state = state(defined)
    for reason in ("", "   ", "ok"):
        refused = post(admin, path, {**form, field: reason}, page)
        html = text(refused)
        assert refused.status_code == 400 and "Có lỗi cần sửa" in html and "<title>Lỗi:" in html
        assert f'<a href="#{field}">{message}</a>' in html  # in the summary, linked to the field
        assert f'id="{field}-error"' in html and f'aria-describedby="{field}-hint {field}-error"' in html
    assert state(defined) == before_state and by_admin(defined) == []


def test_optional_reasons_may_be_left_empty(admin, defined):
    for action, path, page, form, field, target, before, message in CHANGES:
        if message is None:
            assert post(admin, path, form, page).status_code == 302
    assert sorted(by_admin(defined)) == [("account_add", "can-bo-2", None), ("agency_add", "000.00.16.H56", None),
                                         ("group_add", "tu-phap", None)]
    assert "Lý do (không bắt buộc)" in text(admin.get("/quan-tri/co-quan"))
    assert "Lý do đổi tên" in text(admin.get(AGENCY)) and "(không bắt buộc)</label>" not in text(admin.get(AGENCY))


def test_a_refused_form_keeps_what_was_typed(admin, defined):
    refused = post(admin, ACCOUNT, {"ten_hien_thi": "Phạm Văn Tâm", "nhom": ["mot-cua"], "ly_do": "x" * 501})
    html = text(refused)
    assert refused.status_code == 400 and "Lý do thay đổi tài khoản dài quá 500 ký tự (đang có 501 ký tự)" in html
    assert 'value="Phạm Văn Tâm"' in html and ">" + "x" * 501 + "</textarea>" in html
    new = post(admin, "/quan-tri/tai-khoan/moi", {"ten": "can-bo-2", "mat_khau": "ngan", "mat_khau_2": "ngan",
                                                   "ly_do": "Cán bộ mới về bộ phận"})
    assert new.status_code == 400 and ">Cán bộ mới về bộ phận</textarea>" in text(new)
    assert post(admin, ACCOUNT + "/khoa", {"ly_do_khoa": " " + "y" * 500 + " "}, ACCOUNT).status_code == 302
    assert by_admin(defined) == [("account_disable", "can-bo-1", "y" * 500)]  # 500 characters is the limit


def test_an_administrator_cannot_disable_themselves_whatever_the_reason(admin, defined):
    page = "/quan-tri/tai-khoan/quan-tri"
    refused = post(admin, page + "/khoa", {"ly_do_khoa": "Nghỉ phép dài ngày"}, page)
    assert refused.status_code == 400 and "Không thể tự khóa tài khoản của chính mình" in text(refused)
    assert by_admin(defined) == []
