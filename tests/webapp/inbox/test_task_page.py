"""The task page an officer works from: the registry profile, the documents and their signature check, the
payments, the tracking card, comments, handing the task to a colleague, forwarding to another agency, and the
one-supplement rule with a leader's permission — each refused input answered with a clear message."""
from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from sqlalchemy import delete

from engine import accounts, db, dossier_codes, external_tasks, instances, queries, user_tasks
from engine.models import Account, HistoryEvent
from engine.office_models import Agency
from engine.runtime import Actor
from tests.engine.test_inbox import BIRTH, VN
from tests.webapp.inbox.test_inbox_pages import csrf, desk, sign_in, task_id  # noqa: F401  (desk: the fixture)

COMMUNE, JUSTICE = "000.00.00.H56", "000.00.16.H56"


@pytest.fixture
def office(app, desk, factory):
    with db.transaction(factory) as session:
        accounts.add(session, "lanh-dao-1", "mat-khau-4", groups=["lanh-dao", "mot-cua"], agency=COMMUNE)
        at = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
        session.add_all([Agency(code=COMMUNE, name="UBND xã Tân An", disabled=False, created_at=at),
                         Agency(code=JUSTICE, name="Sở Tư pháp", disabled=False, created_at=at)])
    return desk


PROFILE = {"citizen_id": "001099012345", "full_name": "Nguyễn Văn An", "birth_date": "1990-05-02", "sex": "Nam",
           "province_of_birth": "Hà Nội", "permanent_address": "Số 1 phố Huế"}
SIGNATURES = [{"signer": "NGUYỄN VĂN AN", "signing_time": "2026-11-30T08:00:00+07:00", "intact": True, "trusted": True,
               "reason_vi": "Chữ ký hợp lệ, do tổ chức tin cậy cấp"}]


def dossier_with(factory, esign_result: dict) -> str:
    """A birth registration at intake whose registry look-up and signature check answered with these results."""
    when = dt.datetime(2026, 11, 30, 9, 0, tzinfo=VN)
    with time_machine.travel(when, tick=False):
        with db.transaction(factory) as session:
            code = dossier_codes.next_code(session, COMMUNE, when)
            instances.start(session, Actor("portal"), "dang_ky_khai_sinh", {**BIRTH, "dossier_code": code}, code)
        for topic, result in (("population-lookup", {"registry_found": True, "registry_profile": PROFILE}),
                              ("esign-verify", {"signature_valid": True, **esign_result})):
            with db.transaction(factory) as session:
                for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                    external_tasks.complete(session, task.id, "w", result)
    return code


def signed_in(app, name, password):
    client = app.test_client()
    sign_in(client, name, password)
    return client


def post(client, tid, action, **data):
    path = f"/can-bo/viec/{tid}" + (f"/{action}" if action else "")
    return client.post(path, data={"csrf_token": csrf(client, f"/can-bo/viec/{tid}"), **data})


def test_the_page_shows_the_registry_profile_signature_check_and_tracking_card(app, office, factory):
    birth = dossier_with(factory, {"signatures": SIGNATURES, "signature_reason_vi": "Chữ ký hợp lệ"})
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    page = client.get(f"/can-bo/viec/{task_id(client, birth)}").get_data(as_text=True)
    assert "Số 1 phố Huế" in page and "02/05/1990" in page
    assert "NGUYỄN VĂN AN" in page and "Chữ ký hợp lệ, do tổ chức tin cậy cấp" in page
    assert "Phiếu kiểm soát quá trình giải quyết hồ sơ" in page and "Công dân (nộp hồ sơ)" in page and "Đang xử lý" in page


def test_comments_are_posted_and_an_empty_one_is_refused_with_a_message(app, office):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    empty = post(client, tid, "trao-doi", noi_dung="  ")
    assert empty.status_code == 400 and "Nội dung trao đổi không được để trống" in empty.get_data(as_text=True)
    assert post(client, tid, "trao-doi", noi_dung="Chị xem giúp giấy chứng sinh").status_code == 302
    colleague = signed_in(app, "can-bo-2", "mat-khau-2")
    assert "Chị xem giúp giấy chứng sinh" in colleague.get(f"/can-bo/viec/{tid}").get_data(as_text=True)


def test_handing_the_task_to_a_colleague_needs_a_reason(app, office, factory):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    post(client, tid, "nhan")
    no_reason = post(client, tid, "chuyen-nguoi", nguoi_nhan="can-bo-2", ly_do_chuyen="")
    assert no_reason.status_code == 400 and "Cần ghi lý do chuyển việc" in no_reason.get_data(as_text=True)
    assert post(client, tid, "chuyen-nguoi", nguoi_nhan="can-bo-2", ly_do_chuyen="Đi họp cả ngày").status_code == 302
    with db.transaction(factory) as session:
        assert queries.user_task(session, tid)["assignee"] == "can-bo-2"
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert "Chuyển người xử lý: Đi họp cả ngày" in page


def _terminated_under(client, factory, code, tid):
    """Terminate the dossier while ``client`` has its task page open; what the officer reads on completing."""
    token = csrf(client, f"/can-bo/viec/{tid}")
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=code)
        instances.terminate(session, instance["id"], Actor("van-hanh-1", operator=True), "Công dân rút hồ sơ")
    return instance["id"], token


def test_a_task_whose_dossier_was_terminated_says_who_ended_it_and_why(app, office, factory):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    _, token = _terminated_under(client, factory, birth, tid)
    late = client.post(f"/can-bo/viec/{tid}", data={"csrf_token": token, "quyet_dinh": "tiep_nhan"})
    html = late.get_data(as_text=True)
    assert late.status_code == 409 and "None" not in html
    assert "đã huỷ vì hồ sơ bị kết thúc bởi <strong>van-hanh-1</strong>" in html and "Công dân rút hồ sơ" in html


def test_a_task_cancelled_by_the_process_itself_names_no_one(app, office, factory):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    iid, token = _terminated_under(client, factory, birth, tid)
    with db.transaction(factory) as session:  # as if a boundary event had cancelled the task: no one ended it
        session.execute(delete(HistoryEvent).where(HistoryEvent.instance_id == iid,
                                                   HistoryEvent.kind == "instance_terminated"))
    html = client.post(f"/can-bo/viec/{tid}", data={"csrf_token": token, "quyet_dinh": "tiep_nhan"}).get_data(
        as_text=True)
    assert "đã huỷ lúc" in html and "None" not in html


def test_handing_on_a_task_a_colleague_holds_is_a_conflict_saying_who(app, office):
    birth, _ = office
    holder, other = signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "can-bo-2", "mat-khau-2")
    tid = task_id(holder, birth)
    token = csrf(other, f"/can-bo/viec/{tid}")  # the page as it was before can-bo-1 took the task
    post(holder, tid, "nhan")
    refused = other.post(f"/can-bo/viec/{tid}/chuyen-nguoi", data={"csrf_token": token, "nguoi_nhan": "lanh-dao-1",
                                                                    "ly_do_chuyen": "Đi họp cả ngày"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Việc này đã thay đổi" in html
    assert "nhận bởi <strong>can-bo-1</strong>" in html


def test_forwarding_hands_the_dossier_to_the_other_agency(app, office):
    birth, _ = office
    ours, theirs = signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "tu-phap-1", "mat-khau-3")
    tid = task_id(ours, birth)
    refused = post(ours, tid, "lien-thong", co_quan="999.99.99.X00", ly_do_lien_thong="Không thuộc thẩm quyền")
    assert refused.status_code == 400 and "Không có cơ quan mã" in refused.get_data(as_text=True)
    assert post(ours, tid, "lien-thong", co_quan=JUSTICE, ly_do_lien_thong="Thuộc thẩm quyền Sở").status_code == 302
    listing = ours.get("/can-bo/").get_data(as_text=True)
    assert f"Đã chuyển hồ sơ {birth} sang cơ quan khác" in listing and f">{birth}<" not in listing
    assert ours.get(f"/can-bo/viec/{tid}").status_code == 404
    assert birth in theirs.get("/can-bo/").get_data(as_text=True)


def _answer_supplement(factory, birth):
    for topic in ("document", "notify"):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {})
    with db.transaction(factory) as session:
        (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == birth]
        user_tasks.complete(session, task["id"], Actor("001099012345", frozenset({"cong-dan"})),
                            {"giay_to_bo_sung": [{"ten": "Giấy chứng sinh", "tep": "gcs.pdf"}]})
        for task in external_tasks.fetch_and_lock(session, "w", {"esign-verify": 60000}, 10):
            external_tasks.complete(session, task.id, "w", {"signature_valid": True})


def test_a_second_supplement_request_waits_for_a_leader(app, office, factory):
    birth, _ = office
    desk_officer, leader = signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "lanh-dao-1", "mat-khau-4")
    supplement = {"quyet_dinh": "bo_sung", "giay_to_thieu": "Giấy chứng sinh bản gốc"}
    assert post(desk_officer, task_id(desk_officer, birth), "", **supplement).status_code == 302
    _answer_supplement(factory, birth)
    tid = task_id(desk_officer, birth)
    assert "Cho phép bổ sung thêm một lần" not in desk_officer.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    again = post(desk_officer, tid, "", **supplement)
    assert again.status_code == 409 and "cần lãnh đạo cho phép" in again.get_data(as_text=True)
    assert "Giấy chứng sinh bản gốc" in again.get_data(as_text=True)  # the officer's list is kept
    assert post(desk_officer, tid, "cho-phep-bo-sung", ly_do_cho_phep="Tôi cho phép").status_code == 403
    assert "Cho phép bổ sung thêm một lần" in leader.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert post(leader, tid, "cho-phep-bo-sung", ly_do_cho_phep="Giấy chứng sinh bị mờ").status_code == 302
    assert post(desk_officer, tid, "", **supplement).status_code == 302


def test_a_leader_who_cannot_open_the_desks_task_allows_the_request_from_their_list(app, office, factory):
    birth, _ = office
    with db.transaction(factory) as session:
        accounts.add(session, "lanh-dao-2", "mat-khau-5", groups=["lanh-dao"], agency=COMMUNE)  # not in mot-cua
        accounts.add(session, "lanh-dao-so", "mat-khau-6", groups=["lanh-dao"], agency=JUSTICE)
    desk_officer, leader = signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "lanh-dao-2", "mat-khau-5")
    other_leader = signed_in(app, "lanh-dao-so", "mat-khau-6")
    supplement = {"quyet_dinh": "bo_sung", "giay_to_thieu": "Giấy chứng sinh bản gốc"}
    assert post(desk_officer, task_id(desk_officer, birth), "", **supplement).status_code == 302
    _answer_supplement(factory, birth)
    tid = task_id(desk_officer, birth)
    assert leader.get(f"/can-bo/viec/{tid}").status_code == 404  # the intake task is the desk's
    assert post(desk_officer, tid, "de-nghi-bo-sung", ly_do_de_nghi="").status_code == 400  # a reason is needed
    assert post(desk_officer, tid, "de-nghi-bo-sung", ly_do_de_nghi="Bản gốc bị rách").status_code == 302
    again = post(desk_officer, tid, "de-nghi-bo-sung", ly_do_de_nghi="Bản gốc bị rách")
    assert again.status_code == 400 and "đang chờ lãnh đạo" in again.get_data(as_text=True)
    assert birth not in other_leader.get("/can-bo/").get_data(as_text=True)  # another agency's leader: not listed
    listing = leader.get("/can-bo/").get_data(as_text=True)
    assert "Đề nghị cho phép yêu cầu bổ sung thêm" in listing and "Bản gốc bị rách" in listing and birth in listing
    instance_id = re.search(r'action="/can-bo/ho-so/([^/"]+)/cho-phep-bo-sung"', listing).group(1)
    path = f"/can-bo/ho-so/{instance_id}/cho-phep-bo-sung"
    token = csrf(other_leader, "/can-bo/")
    assert other_leader.post(path, data={"csrf_token": token, "ly_do_cho_phep": "Tôi cho phép"}).status_code == 404
    token = csrf(desk_officer, "/can-bo/")
    assert desk_officer.post(path, data={"csrf_token": token, "ly_do_cho_phep": "Tôi cho phép"}).status_code == 403
    allowed = leader.post(path, data={"csrf_token": csrf(leader, "/can-bo/"), "ly_do_cho_phep": "Giấy rách thật"})
    assert allowed.status_code == 302
    listing = leader.get("/can-bo/").get_data(as_text=True)
    assert f"Đã cho phép hồ sơ {birth} yêu cầu bổ sung thêm một lần" in listing and "Bản gốc bị rách" not in listing
    assert post(desk_officer, tid, "", **supplement).status_code == 302  # the second request goes through


def test_documents_are_served_only_from_where_files_are_kept(app, office, factory, tmp_path):
    settings = app.extensions["motcua"].settings
    issued = settings.var_dir / "documents"
    issued.mkdir(parents=True, exist_ok=True)
    (issued / "phieu.pdf").write_bytes(b"%PDF-1.7 phieu")
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"%PDF-1.7 secret")
    birth = dossier_with(factory, {"dossier_documents": [
        {"kind": "mau-02", "title": "Phiếu yêu cầu bổ sung", "filename": "phieu.pdf", "path": str(issued / "phieu.pdf")},
        {"kind": "la", "title": "Lạ", "filename": "secret.pdf", "path": str(outside)}]})
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert "Phiếu yêu cầu bổ sung" in page
    with client.get(f"/can-bo/viec/{tid}/tai-lieu/mau-02") as got:
        assert got.status_code == 200 and got.data == b"%PDF-1.7 phieu"
    assert client.get(f"/can-bo/viec/{tid}/tai-lieu/la").status_code == 404
    assert client.get(f"/can-bo/viec/{tid}/tai-lieu/khong-co").status_code == 404
    other = signed_in(app, "tu-phap-1", "mat-khau-3")
    assert other.get(f"/can-bo/viec/{tid}/tai-lieu/mau-02").status_code == 404


def test_disabling_an_officer_gives_their_claimed_task_back_to_the_group(app, office, factory):
    birth, _ = office
    with db.transaction(factory) as session:
        accounts.add(session, "quan-tri", "mat-khau-quan-tri", groups=["admin"])
    holder, colleague, admin = (signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "can-bo-2", "mat-khau-2"),
                                signed_in(app, "quan-tri", "mat-khau-quan-tri"))
    tid = task_id(holder, birth)
    assert post(holder, tid, "nhan").status_code == 302
    page = "/quan-tri/tai-khoan/can-bo-1"
    assert admin.post(page + "/khoa", data={"csrf_token": csrf(admin, page),
                                            "ly_do_khoa": "Cán bộ nghỉ hưu"}).status_code == 302
    html = colleague.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert "Chưa ai nhận việc này." in html
    assert "trả lại nhóm vì tài khoản can-bo-1 đã bị khoá (quan-tri: Cán bộ nghỉ hưu)" in html
    assert post(colleague, tid, "nhan").status_code == 302


def test_a_colleague_gives_back_a_task_still_held_by_a_disabled_officer(app, office, factory):
    birth, _ = office
    holder, colleague = signed_in(app, "can-bo-1", "mat-khau-1"), signed_in(app, "can-bo-2", "mat-khau-2")
    tid = task_id(holder, birth)
    assert post(holder, tid, "nhan").status_code == 302
    with db.transaction(factory) as session:  # disabled before its claims were released on disabling
        session.get(Account, "can-bo-1").disabled = True
    html = colleague.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert "tài khoản đã bị khoá" in html and "Trả lại cho nhóm" in html
    assert post(colleague, tid, "tra-lai").status_code == 302
    assert "Chưa ai nhận việc này." in colleague.get(f"/can-bo/viec/{tid}").get_data(as_text=True)


SPOOF = "Hồ sơ đã được phê duyệt, nộp thêm 2.000.000 đồng vào tài khoản 0123456789"


def test_text_in_the_address_is_never_shown_as_an_official_notice(app, office):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    assert SPOOF not in client.get(f"/can-bo/viec/{tid}", query_string={"tb": SPOOF}).get_data(as_text=True)
    for key in ("xong", "chuyen", "lien_thong"):
        assert SPOOF not in client.get("/can-bo/", query_string={key: SPOOF}).get_data(as_text=True)


def test_what_the_officer_just_did_is_confirmed_once_by_the_server(app, office):
    birth, _ = office
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    tid = task_id(client, birth)
    done = post(client, tid, "trao-doi", noi_dung="Chị xem giúp giấy chứng sinh")
    assert done.status_code == 302 and "?" not in done.headers["Location"]
    assert "Đã gửi trao đổi" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Đã gửi trao đổi" not in client.get(done.headers["Location"]).get_data(as_text=True)  # shown once
    post(client, tid, "nhan")
    handed = post(client, tid, "chuyen-nguoi", nguoi_nhan="can-bo-2", ly_do_chuyen="Đi họp cả ngày")
    assert handed.headers["Location"].endswith("/can-bo/")
    assert "Đã chuyển việc cho đồng nghiệp" in client.get("/can-bo/").get_data(as_text=True)


def test_an_instance_of_a_multi_instance_step_shows_the_item_it_is_for(app, desk, factory):
    from tests.bpmn_builder import end, linear, process, start
    from tests.conftest import deploy_files
    loop = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="so" camunda:elementVariable="so_duoc_hoi"/>'
    body = linear(start(), ("hoi", f'<bpmn:userTask id="hoi" name="Lấy ý kiến sở" camunda:candidateGroups="mot-cua">'
                                   f'{loop}</bpmn:userTask>'), end())
    procedure = ('code = "MAU.000002"\nname = "Lấy ý kiến các sở"\nagency = "000.00.00.H56"\nprocess_key = "lay_y_kien"\n'
                 'catalogue = false\ndeadline = { unit = "working_days", online = 5, counter = 5 }\n').encode()
    deploy_files(factory, [("p.bpmn", process(body, process_id="lay_y_kien")), ("procedure.toml", procedure)])
    with db.transaction(factory) as session:
        iid = instances.start(session, Actor("op", operator=True), "lay_y_kien",
                              {"so": ["Sở Xây dựng", "Sở Tài nguyên và Môi trường"]}).row.id
        ids = [t["id"] for t in queries.user_tasks(session, instance_id=iid)]
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    pages = [client.get(f"/can-bo/viec/{tid}") for tid in ids]
    assert [p.status_code for p in pages] == [200, 200]
    shown = [re.search(r'Phần việc này</h3>.*?<dd>(.*?)</dd>', p.get_data(as_text=True), re.S).group(1) for p in pages]
    assert sorted(shown) == ["Sở Tài nguyên và Môi trường", "Sở Xây dựng"]
    listing = client.get("/can-bo/").get_data(as_text=True)  # the rows tell apart in the list too
    assert "Lấy ý kiến sở <span class=\"hint\">(Sở Xây dựng)</span>" in listing
    assert "Lấy ý kiến sở <span class=\"hint\">(Sở Tài nguyên và Môi trường)</span>" in listing


def test_a_user_task_the_analyst_left_unnamed_shows_its_id_not_none(app, desk, factory):
    from tests.bpmn_builder import end, linear, process, start
    from tests.conftest import deploy_files
    procedure = ('code = "MAU.000003"\nname = "Không tên"\nagency = "000.00.00.H56"\nprocess_key = "khong_ten"\n'
                 'catalogue = false\ndeadline = { unit = "working_days", online = 5, counter = 5 }\n').encode()
    body = linear(start(), ("Activity_0kiem", '<bpmn:userTask id="Activity_0kiem" camunda:candidateGroups="mot-cua"/>'),
                  end())
    deploy_files(factory, [("p.bpmn", process(body, process_id="khong_ten")), ("procedure.toml", procedure)])
    with db.transaction(factory) as session:
        iid = instances.start(session, Actor("op", operator=True), "khong_ten", {}).row.id
        (tid,) = [t["id"] for t in queries.user_tasks(session, instance_id=iid)]
    client = signed_in(app, "can-bo-1", "mat-khau-1")
    page = client.get(f"/can-bo/viec/{tid}").get_data(as_text=True)
    assert '<h1 class="heading-xl">Activity_0kiem</h1>' in page and "None" not in page
    assert "<td>Activity_0kiem</td>" in client.get("/can-bo/").get_data(as_text=True)
