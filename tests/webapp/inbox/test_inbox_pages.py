"""The officers' inbox pages: sign in, only one's agency's tasks, the task page with the dossier and the form,
completing with checks, and two officers on one task — one succeeds, the other reads a clear message."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import accounts, db, deployment, instances, queries
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES
from tests.engine.test_inbox import BIRTH, RECORD, VN, at_intake


@pytest.fixture
def desk(app, factory):
    with db.transaction(factory) as session:
        for folder in ("birth-registration", "criminal-record"):
            deployment.deploy(session, deployment.collect_files([PROCESSES / folder]), FORMS)
        accounts.add(session, "can-bo-1", "mat-khau-1", groups=["mot-cua"], agency="000.00.00.H56")
        accounts.add(session, "can-bo-2", "mat-khau-2", groups=["mot-cua"], agency="000.00.00.H56")
        accounts.add(session, "tu-phap-1", "mat-khau-3", groups=["mot-cua"], agency="000.00.16.H56")
        accounts.add(session, "bot", service=True, groups=["mot-cua"])
    monday = dt.datetime(2026, 11, 30, 8, 0, tzinfo=VN)
    birth = at_intake(factory, "dang_ky_khai_sinh", BIRTH, "000.00.00.H56", monday)
    record = at_intake(factory, "cap_phieu_lltp", RECORD, "000.00.16.H56", monday)
    return birth, record


def csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def sign_in(client, name, password):
    return client.post("/can-bo/dang-nhap", data={"csrf_token": csrf(client, "/can-bo/dang-nhap"), "ten": name,
                                                  "mat_khau": password})


def task_id(client, code):
    html = client.get("/can-bo/").get_data(as_text=True)
    return re.search(rf'href="/can-bo/viec/([^"]+)">{re.escape(code)}<', html).group(1)


def test_signing_in_and_who_may(app, desk):
    client = app.test_client()
    assert "/can-bo/dang-nhap" in client.get("/can-bo/").headers["Location"]
    wrong = sign_in(client, "can-bo-1", "sai")
    assert wrong.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in wrong.get_data(as_text=True)
    assert sign_in(client, "bot", "x").status_code == 401  # machines do not sign in to pages
    assert sign_in(client, "can-bo-1", "mat-khau-1").status_code == 302


def test_only_failed_sign_ins_count_toward_the_limit_of_an_address(app, desk):
    # a commune's officers share one address: a morning of successful sign-ins must not lock the next one out
    from webapp.inbox.auth import SIGN_INS
    for _ in range(SIGN_INS + 2):
        assert sign_in(app.test_client(), "can-bo-1", "mat-khau-1").status_code == 302
    client = app.test_client()
    for _ in range(SIGN_INS):
        assert sign_in(client, "can-bo-2", "sai").status_code == 401
    assert sign_in(client, "can-bo-2", "mat-khau-2").status_code == 429  # now the address waits


def test_an_officer_sees_and_opens_only_their_agencys_tasks(app, desk):
    birth, record = desk
    ours, theirs = app.test_client(), app.test_client()
    sign_in(ours, "can-bo-1", "mat-khau-1")
    sign_in(theirs, "tu-phap-1", "mat-khau-3")
    html = ours.get("/can-bo/").get_data(as_text=True)
    assert birth in html and record not in html and "Kiểm tra, tiếp nhận hồ sơ" in html
    assert "Nguyễn Văn An" in html  # the applicant
    other = task_id(theirs, record)
    assert ours.get(f"/can-bo/viec/{other}").status_code == 404
    page = ours.get(f"/can-bo/viec/{task_id(ours, birth)}").get_data(as_text=True)
    assert "Nguyễn Minh" in page and "Kết quả kiểm tra" in page and "Mới đăng ký" in page


def test_completing_checks_the_form_then_moves_the_dossier(app, desk, factory):
    birth, _ = desk
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    token = csrf(client, f"/can-bo/viec/{tid}")
    missing = client.post(f"/can-bo/viec/{tid}", data={"csrf_token": token, "quyet_dinh": "bo_sung"})
    assert missing.status_code == 400 and "Nhập giấy tờ cần bổ sung" in missing.get_data(as_text=True)
    done = client.post(f"/can-bo/viec/{tid}", data={"csrf_token": token, "quyet_dinh": "bo_sung",
                                                    "giay_to_thieu": "Giấy chứng sinh bản gốc\nVăn bản ủy quyền"})
    assert done.status_code == 302
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=birth)
        variables = queries.instance(session, instance["id"], with_variables=True)["variables"]
    assert variables["giay_to_thieu"] == ["Giấy chứng sinh bản gốc", "Văn bản ủy quyền"]


def two_officers(app, code):
    """can-bo-1 and can-bo-2 signed in, and the id of the dossier's task both see."""
    first, second = app.test_client(), app.test_client()
    sign_in(first, "can-bo-1", "mat-khau-1")
    sign_in(second, "can-bo-2", "mat-khau-2")
    return first, second, task_id(first, code)


def test_two_officers_on_one_task_one_wins_the_other_reads_why(app, desk, factory):
    birth, _ = desk
    first, second, tid = two_officers(app, birth)
    t1, t2 = csrf(first, f"/can-bo/viec/{tid}"), csrf(second, f"/can-bo/viec/{tid}")
    assert first.post(f"/can-bo/viec/{tid}", data={"csrf_token": t1, "quyet_dinh": "tiep_nhan"}).status_code == 302
    late = second.post(f"/can-bo/viec/{tid}", data={"csrf_token": t2, "quyet_dinh": "tu_choi",
                                                   "ly_do_tu_choi": "Hồ sơ không thuộc thẩm quyền"})
    assert late.status_code == 409 and "một cán bộ khác đã xử lý xong" in late.get_data(as_text=True)
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=birth)
        assert queries.instance(session, instance["id"], with_variables=True)["variables"]["quyet_dinh"] == "tiep_nhan"


def test_a_claimed_task_is_not_completed_by_a_colleague(app, desk):
    birth, _ = desk
    first, second, tid = two_officers(app, birth)
    assert first.post(f"/can-bo/viec/{tid}/nhan", data={"csrf_token": csrf(first, f"/can-bo/viec/{tid}")}).status_code == 302
    assert "Người xử lý: <strong>can-bo-1</strong>" in second.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    refused = second.post(f"/can-bo/viec/{tid}", data={"csrf_token": csrf(second, f"/can-bo/viec/{tid}"),
                                                       "quyet_dinh": "tiep_nhan"})
    assert refused.status_code == 409 and "can-bo-1" in refused.get_data(as_text=True)


def test_the_engines_conflicts_are_told_in_vietnamese(app, desk, factory):
    birth, _ = desk
    first, second, tid = two_officers(app, birth)
    path = f"/can-bo/viec/{tid}"
    stale = csrf(second, path)  # can-bo-2's page from before can-bo-1 took the task
    first.post(f"{path}/nhan", data={"csrf_token": csrf(first, path)})
    held = "Việc này đang do cán bộ can-bo-1 xử lý"
    for action, data in (("/nhan", {}), ("/tra-lai", {}), ("", {"quyet_dinh": "tiep_nhan"})):
        refused = second.post(path + action, data={"csrf_token": stale, **data})
        html = refused.get_data(as_text=True)
        assert refused.status_code == 409 and held in html, action
        assert "claimed by" not in html and "assigned to" not in html, action
    first.post(f"{path}/tra-lai", data={"csrf_token": csrf(first, path)})
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=birth)
        instances.suspend(session, instance["id"], Actor("van-hanh-1", operator=True), "Chờ xác minh")
    refused = second.post(f"{path}/nhan", data={"csrf_token": stale})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Hồ sơ đang tạm dừng" in html and "is suspended" not in html


def test_a_suspended_dossier_is_told_on_the_task_page_and_typed_answers_stay(app, desk, factory):
    birth, _ = desk
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    path = f"/can-bo/viec/{tid}"
    token = csrf(client, path)  # the page opened before the dossier was suspended
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=birth)
        instances.suspend(session, instance["id"], Actor("van-hanh-1", operator=True), "Chờ xác minh")
    page = client.get(path).get_data(as_text=True)
    assert "Hồ sơ đang tạm dừng" in page and re.search(r'id="hoan-thanh" disabled', page)
    refused = client.post(path, data={"csrf_token": token, "quyet_dinh": "tu_choi",
                                      "ly_do_tu_choi": "Hồ sơ không thuộc thẩm quyền"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Hồ sơ đang tạm dừng" in html
    assert "Hồ sơ không thuộc thẩm quyền" in html  # what was typed is on the page again


def test_a_copied_cookie_is_refused_once_the_officer_signs_out(app, desk):
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-1")
    copied = client.get_cookie("motcua_session").value
    assert client.get("/can-bo/").status_code == 200
    client.post("/can-bo/dang-xuat", data={"csrf_token": csrf(client, "/can-bo/")})
    thief = app.test_client()
    thief.set_cookie("motcua_session", copied)
    answer = thief.get("/can-bo/")
    assert answer.status_code == 302 and "/can-bo/dang-nhap" in answer.headers["Location"]


def test_a_new_password_signs_out_whoever_knew_the_old_one(app, desk, factory):
    from engine import account_admin
    holder, other = app.test_client(), app.test_client()
    sign_in(holder, "can-bo-1", "mat-khau-1")
    sign_in(other, "can-bo-2", "mat-khau-2")
    with db.transaction(factory) as session:
        account_admin.set_password(session, "can-bo-1", "mat-khau-moi-dai-hon", by="quan-tri")
    assert "/can-bo/dang-nhap" in holder.get("/can-bo/").headers["Location"]
    assert other.get("/can-bo/").status_code == 200  # another account's session goes on
    assert sign_in(holder, "can-bo-1", "mat-khau-moi-dai-hon").status_code == 302


def test_disabling_an_account_ends_its_sessions_for_good(app, desk, factory):
    from engine import account_admin
    client = app.test_client()
    sign_in(client, "can-bo-1", "mat-khau-1")
    copied = client.get_cookie("motcua_session").value
    with db.transaction(factory) as session:
        account_admin.set_disabled(session, "can-bo-1", True, by="quan-tri")
    with db.transaction(factory) as session:
        account_admin.set_disabled(session, "can-bo-1", False, by="quan-tri")  # enabled again: a new sign-in needed
    thief = app.test_client()
    thief.set_cookie("motcua_session", copied)
    assert "/can-bo/dang-nhap" in thief.get("/can-bo/").headers["Location"]
