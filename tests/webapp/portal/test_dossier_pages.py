"""Following dossiers: a citizen sees only their own; the public look-up needs the code and the owner's number,
answers every miss the same way and stops after ten tries."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from engine import db, deployment, dossier_codes, external_tasks, instances, queries, user_tasks
from engine.runtime import Actor
from tests.conftest import FORMS, PROCESSES, sign_in_citizen

OWNER, OTHER = "001099012345", "079188001122"
APPLICATION = {"applicant_name": "Nguyễn Thị Lan", "quan_he_voi_tre": "me", "ho_ten_tre": "Trần Minh An",
               "ngay_sinh_tre": "2026-11-20", "gioi_tinh_tre": "nam", "noi_sinh_tre": "Bệnh viện tỉnh",
               "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam", "ho_ten_me": "Nguyễn Thị Lan",
               "document": "gcs.pdf", "so_ban_sao": 0, "procedure_name": "Đăng ký khai sinh"}


def apply(factory, owner: str, missing=("Giấy chứng sinh có chữ ký số hợp lệ",)) -> str:
    """A birth registration by ``owner``, taken to a supplement request for ``missing``; returns its dossier code."""
    with db.transaction(factory) as session:
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh",
                        {**APPLICATION, "citizen_id": owner, "dossier_code": code}, code, from_form=True)
    for topic, result in (("population-lookup", {"registry_found": True}), ("esign-verify", {"signature_valid": True})):
        with db.transaction(factory) as session:
            (task,) = [t for t in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10)]
            external_tasks.complete(session, task.id, "w", result)
    with db.transaction(factory) as session:
        (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == code]
        user_tasks.complete(session, task["id"], Actor("can-bo", frozenset({"mot-cua"})), {
            "quyet_dinh": "bo_sung", "giay_to_thieu": list(missing),
            "ly_do_bo_sung": "Chữ ký số trên Giấy chứng sinh đã hết hạn"})
    for topic in ("document", "notify"):  # Form 02 written and sent: the citizen is asked
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", {})
    return code


@pytest.fixture
def dossiers(factory, client):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
    return apply(factory, OWNER), apply(factory, OTHER)


def sign_in(client, number: str = OWNER) -> None:
    sign_in_citizen(client, number, name="Nguyễn Thị Lan", birthdate="1990-01-01")


def csrf(client, path: str = "/tra-cuu") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_my_dossiers_needs_a_sign_in_and_lists_only_mine(client, dossiers):
    mine, theirs = dossiers
    assert "/dang-nhap" in client.get("/ho-so-cua-toi").headers["Location"]
    sign_in(client)
    html = client.get("/ho-so-cua-toi").get_data(as_text=True)
    assert mine in html and theirs not in html and "Yêu cầu bổ sung giấy tờ" in html and "Đăng ký khai sinh" in html


def test_my_dossier_tells_what_is_missing_and_the_story(client, dossiers):
    mine, _ = dossiers
    sign_in(client)
    html = client.get(f"/ho-so/{mine}").get_data(as_text=True)
    assert "Giấy chứng sinh có chữ ký số hợp lệ" in html and "Chữ ký số trên Giấy chứng sinh đã hết hạn" in html
    assert "Nộp hồ sơ" in html and "Mới đăng ký" not in html.split("Quá trình giải quyết")[0]
    assert "tạm dừng" in html


def test_another_citizens_dossier_is_a_404_like_a_missing_one(client, dossiers):
    _, theirs = dossiers
    sign_in(client)
    assert client.get(f"/ho-so/{theirs}").status_code == 404
    assert client.get("/ho-so/000.00.00.H56-991231-9999").status_code == 404


def test_the_public_look_up_needs_code_and_number_and_says_the_same_for_any_miss(client, dossiers):
    mine, theirs = dossiers
    token = csrf(client)
    found = client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": mine, "so_dinh_danh": OWNER})
    assert found.status_code == 200 and "Yêu cầu bổ sung giấy tờ" in found.get_data(as_text=True)
    wrong_owner = client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": theirs, "so_dinh_danh": OWNER})
    no_such = client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": mine + "9", "so_dinh_danh": OWNER})
    assert wrong_owner.status_code == no_such.status_code == 404
    words = "Không tìm thấy hồ sơ khớp với mã hồ sơ và số định danh đã nhập"
    assert words in wrong_owner.get_data(as_text=True) and words in no_such.get_data(as_text=True)
    bad = client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": "<x>", "so_dinh_danh": "12"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Có lỗi cần sửa" in html and "gồm 12 chữ số" in html and "<x>" not in html


def test_the_look_up_needs_the_csrf_token_and_stops_after_ten_tries(client, dossiers):
    mine, _ = dossiers
    assert client.post("/tra-cuu", data={"ma_ho_so": mine, "so_dinh_danh": OWNER}).status_code == 400
    token = csrf(client)
    answers = [client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": mine, "so_dinh_danh": OTHER}).status_code
               for _ in range(11)]
    assert answers[:10] == [404] * 10 and answers[10] == 429
    right = client.post("/tra-cuu", data={"csrf_token": token, "ma_ho_so": mine, "so_dinh_danh": OWNER})
    assert right.status_code == 429 and "Quá nhiều yêu cầu" in right.get_data(as_text=True)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_owner_answers_the_supplement_request_with_a_file_for_each_item(client, dossiers, factory):
    import io
    mine, theirs = dossiers
    sign_in(client)
    page = client.get(f"/ho-so/{mine}").get_data(as_text=True)
    assert f'href="/ho-so/{mine}/bo-sung"' in page
    form = client.get(f"/ho-so/{mine}/bo-sung").get_data(as_text=True)
    assert "Giấy chứng sinh có chữ ký số hợp lệ" in form
    empty = client.post(f"/ho-so/{mine}/bo-sung", data={"csrf_token": csrf(client, f"/ho-so/{mine}/bo-sung")})
    assert empty.status_code == 400 and "Tải lên tệp cho mục: Giấy chứng sinh có chữ ký số hợp lệ" in \
        empty.get_data(as_text=True)
    sent = client.post(f"/ho-so/{mine}/bo-sung", content_type="multipart/form-data", data={
        "csrf_token": csrf(client, f"/ho-so/{mine}/bo-sung"), "tep-0": (io.BytesIO(PDF), "gcs-moi.pdf"),
        "thay_giay_to_ky_so": "1", "ghi_chu_bo_sung": "Đã xin bệnh viện ký lại"})
    assert sent.status_code == 302
    with db.transaction(factory) as session:
        (instance,) = queries.instances(session, business_key=mine)
        detail = queries.instance_detail(session, instance["id"])
    variables = detail["variables"]
    assert variables["giay_to_bo_sung"][0]["ten"] == "Giấy chứng sinh có chữ ký số hợp lệ"
    assert variables["document"].endswith("gcs-moi.pdf") and variables["ghi_chu_bo_sung"] == "Đã xin bệnh viện ký lại"
    assert detail["dossier"]["pausedAt"] is None and len(detail["dossier"]["pauses"]) == 1
    assert [t["topicName"] for t in detail["externalTasks"]] == ["esign-verify"]  # checked again
    assert client.get(f"/ho-so/{mine}/bo-sung").status_code == 302  # nothing more to answer
    assert client.get(f"/ho-so/{theirs}/bo-sung").status_code == 404


def test_a_refused_supplement_keeps_the_note_and_the_tick_and_names_the_files_to_choose_again(client, dossiers,
                                                                                           factory):
    import io
    code = apply(factory, OWNER, missing=("Giấy chứng sinh", "Giấy xác nhận cư trú"))
    sign_in(client)
    url = f"/ho-so/{code}/bo-sung"
    refused = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf(client, url), "tep-0": (io.BytesIO(PDF), "gcs-moi.pdf"),
        "thay_giay_to_ky_so": "1", "ghi_chu_bo_sung": "Đã xin bệnh viện ký lại"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Tải lên tệp cho mục: Giấy xác nhận cư trú" in html
    assert ">Đã xin bệnh viện ký lại</textarea>" in html
    assert 'name="thay_giay_to_ky_so" value="1" checked>' in html
    assert "đã chọn tệp <strong>gcs-moi.pdf</strong>" in html and "chọn lại tệp này" in html
    assert html.count("chọn lại tệp này") == 1  # only the accepted one; the other has its error


def test_the_receipt_of_an_accepted_dossier_downloads_for_its_owner_only(client, factory, settings):
    from workers import document
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh",
                        {**APPLICATION, "citizen_id": OWNER, "dossier_code": code}, code, from_form=True)
    for topic, result in (("population-lookup", {"registry_found": True}),
                          ("esign-verify", {"signature_valid": True, "signature_reason_vi": "Chữ ký hợp lệ, do BV ký"})):
        with db.transaction(factory) as session:
            for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                external_tasks.complete(session, task.id, "w", result)
    with db.transaction(factory) as session:
        (task,) = queries.user_tasks(session)
        user_tasks.complete(session, task["id"], Actor("can-bo", frozenset({"mot-cua"})), {"quyet_dinh": "tiep_nhan"})
    with db.transaction(factory) as session:
        (task,) = external_tasks.fetch_and_lock(session, "w", {"document": 60000}, 10)
        slip = document.handle(task.variables, out_dir=settings.var_dir / "documents")
        external_tasks.complete(session, task.id, "w", slip)
    sign_in(client)
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Hợp lệ</strong> Chữ ký hợp lệ, do BV ký" in page and f"/ho-so/{code}/giay-tiep-nhan.pdf" in page
    pdf = client.get(f"/ho-so/{code}/giay-tiep-nhan.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert f"{code}-giay-tiep-nhan.pdf" in pdf.headers["Content-Disposition"]
    pdf.close()
    sign_in(client, OTHER)
    assert client.get(f"/ho-so/{code}/giay-tiep-nhan.pdf").status_code == 404


def test_the_receipts_qr_code_opens_the_look_up_with_the_code(client):
    html = client.get("/tra-cuu/000.00.00.H56-261201-0001").get_data(as_text=True)
    assert 'value="000.00.00.H56-261201-0001"' in html and "Số định danh cá nhân của người nộp" in html


def deliver(factory, code: str) -> None:
    """Take a dossier from its intake to the delivered result (status 10)."""
    steps = [("mot-cua", {"quyet_dinh": "tiep_nhan"}), ("chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đủ điều kiện"}),
             ("lanh-dao", {"y_kien_lanh_dao": "dong_y"}), ("mot-cua", {"hinh_thuc_tra": "truc_tuyen"})]
    for group, form in steps:
        for topic in ("population-lookup", "esign-verify", "document", "notify"):
            with db.transaction(factory) as session:
                for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                    external_tasks.complete(session, task.id, "w", {"registry_found": True, "signature_valid": True})
        with db.transaction(factory) as session:
            (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == code]
            user_tasks.complete(session, task["id"], Actor("x", frozenset({group})), form)


def test_a_delivered_dossier_is_rated_once_by_its_owner(client, factory):
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "birth-registration"]), FORMS)
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "dang_ky_khai_sinh",
                        {**APPLICATION, "citizen_id": OWNER, "dossier_code": code}, code, from_form=True)
    sign_in(client)
    assert client.get(f"/ho-so/{code}/danh-gia").status_code == 302  # not delivered yet
    deliver(factory, code)
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Đã trả kết quả" in page and f"/ho-so/{code}/danh-gia" in page
    url = f"/ho-so/{code}/danh-gia"
    partial = client.post(url, data={"csrf_token": csrf(client, url), "tieu_chi_3": "2"})
    assert partial.status_code == 400 and "Có lỗi cần sửa" in partial.get_data(as_text=True)
    answers = {"tieu_chi_3": "2", "tieu_chi_4": "2", "tieu_chi_5": "2", "tieu_chi_7": "1", "tieu_chi_10": "2",
               "tieu_chi_11": "1"}
    assert client.post(url, data={"csrf_token": csrf(client, url), **answers}).status_code == 302
    assert "Đã đánh giá" in client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert client.get(url).status_code == 302  # once per dossier
    from engine.citizen_models import DossierRating
    with db.transaction(factory) as session:
        (rating,) = session.query(DossierRating).all()
    assert rating.code == code and rating.score == 2 + 10  # criterion 1: finished well before its due moment
    sign_in(client, OTHER)
    assert client.get(url).status_code == 404


COPY = {"applicant_name": "Nguyễn Thị Lan", "applicant_email": "lan@example.vn", "ten_giay_to": "Bằng tốt nghiệp đại học",
        "loai_giay_to": "van_bang_chung_chi", "nguon_cap": "viet_nam", "co_quan_cap": "Trường Đại học Hồng Đức",
        "so_ky_hieu": "QH-2014-123456", "ngay_cap": "2014-07-15", "document": "bang.pdf", "so_trang": 1,
        "so_ban": 1, "mien_phi": False, "channel": "online", "procedure_name": "Chứng thực bản sao điện tử từ bản chính"}


def test_a_delivered_certified_copy_downloads_for_its_owner(client, factory, settings):
    from engine import messages
    signed = settings.var_dir / "uploads" / "ab" / "abc" / "ban-sao-ky-so.pdf"
    signed.parent.mkdir(parents=True)
    signed.write_bytes(PDF)
    with db.transaction(factory) as session:
        deployment.deploy(session, deployment.collect_files([PROCESSES / "certified-copy"]), FORMS)
        code = dossier_codes.next_code(session, "000.00.00.H56", dt.datetime.now(dt.timezone.utc))
        instances.start(session, Actor("portal"), "chung_thuc_ban_sao_dien_tu",
                        {**COPY, "citizen_id": OWNER, "dossier_code": code}, code, from_form=True)

    def workers(result):
        for topic in ("population-lookup", "esign-verify", "document", "notify", "payment-check"):
            with db.transaction(factory) as session:
                for task in external_tasks.fetch_and_lock(session, "w", {topic: 60000}, 10):
                    external_tasks.complete(session, task.id, "w", result)

    def officer(group, form):
        with db.transaction(factory) as session:
            (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == code]
            user_tasks.complete(session, task["id"], Actor("x", frozenset({group})), form)
        workers({"signature_valid": True, "registry_found": True, "payment_txn_ref": f"T-{code}"})

    workers({"registry_found": True})
    officer("mot-cua", {"quyet_dinh": "tiep_nhan"})
    with db.transaction(factory) as session:
        messages.correlate(session, "payment_received", Actor("gateway", operator=True), business_key=code,
                           variables={"payment_status": "paid"})
    officer("chuyen-vien", {"de_xuat": "cap", "y_kien_tham_dinh": "Đúng với bản chính"})
    officer("lanh-dao", {"y_kien_lanh_dao": "dong_y", "ban_sao_ky_so": str(signed)})
    sign_in(client)
    assert f"/ho-so/{code}/ket-qua" not in client.get(f"/ho-so/{code}").get_data(as_text=True)  # not delivered yet
    officer("mot-cua", {"hinh_thuc_tra": "truc_tuyen"})
    page = client.get(f"/ho-so/{code}").get_data(as_text=True)
    assert "Đã trả kết quả" in page and f"/ho-so/{code}/ket-qua" in page
    download = client.get(f"/ho-so/{code}/ket-qua")
    assert download.status_code == 200 and download.data == PDF and f"{code}-ket-qua.pdf" in \
        download.headers["Content-Disposition"]
    download.close()
    sign_in(client, OTHER)
    assert client.get(f"/ho-so/{code}/ket-qua").status_code == 404


def test_the_files_of_a_supplement_the_page_refused_leave_the_disk(client, dossiers, factory, settings):
    import io
    code = apply(factory, OWNER, missing=("Giấy chứng sinh", "Giấy xác nhận cư trú"))
    sign_in(client)
    url = f"/ho-so/{code}/bo-sung"
    refused = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf(client, url), "tep-0": (io.BytesIO(PDF), "gcs-moi.pdf")})
    assert refused.status_code == 400 and "chọn lại tệp này" in refused.get_data(as_text=True)
    assert not [p for p in (settings.var_dir / "uploads").rglob("*") if p.is_file()]


def test_the_files_of_a_supplement_stay_with_a_dossier_the_officer_then_refuses(client, dossiers, factory, settings):
    """Not discarded: the refused dossier keeps the supplement it was refused on, as its record (Form 03 is
    issued on it), in the instance's variables; so the file stays on disk."""
    import io
    from engine import upload_refs
    mine, _ = dossiers
    sign_in(client)
    url = f"/ho-so/{mine}/bo-sung"
    sent = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf(client, url), "tep-0": (io.BytesIO(PDF), "gcs-moi.pdf")})
    assert sent.status_code == 302
    with db.transaction(factory) as session:
        (task,) = external_tasks.fetch_and_lock(session, "w", {"esign-verify": 60000}, 10)
        external_tasks.complete(session, task.id, "w", {"signature_valid": True})
    with db.transaction(factory) as session:
        (task,) = [t for t in queries.user_tasks(session) if t["businessKey"] == mine]
        user_tasks.complete(session, task["id"], Actor("can-bo", frozenset({"mot-cua"})), {
            "quyet_dinh": "tu_choi", "ly_do_tu_choi": "Giấy chứng sinh bổ sung không do cơ sở y tế cấp"})
    (path,) = [p for p in (settings.var_dir / "uploads").rglob("*") if p.is_file()]
    with db.transaction(factory) as session:
        assert upload_refs.referenced(session, [str(path)]) == {str(path)}
