"""The ``document`` handler's forms beyond the receipt: Forms 02-05 and the result record, the dispatch on
``document_kind``, and the list ``dossier_documents`` that grows with each document.

Each PDF is read back with pypdf; whitespace is collapsed before searching, since a long line may wrap.
The last test plays the birth registration's scenarios with the real handler, so the variables each
procedure holds when it asks for a document are enough to render it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from engine.scenarios import run_procedure
from tests.conftest import FORMS, PROCESSES
from workers import document
from workers.errors import BpmnError
from workers.runner import HANDLERS

CODE = "000.00.00.H56-261201-0001"
COMMON = {
    "dossier_code": CODE,
    "applicant_name": "Nguyễn Thị Lan",
    "procedure_name": "Đăng ký khai sinh",
    "citizen_id": "001090012345",
    "applicant_email": "lan.nguyen@example.vn",
    "receiving_agency": "UBND xã Quảng Phú",
    "parent_agency": "UBND tỉnh Thanh Hóa",
    "receiving_officer": "Lê Văn Tâm",
    "place": "Quảng Phú",
    "issued_at": "2026-12-01T10:00:00+07:00",
    "portal_url": "https://dichvucong.example.vn",
}
MISSING = ["Văn bản ủy quyền có chứng thực của người mẹ", "Bản chụp Giấy chứng nhận kết hôn của cha mẹ"]
# kind: (the variables the procedure holds at that point, returned variable, file suffix, expected text)
KINDS = {
    "mau-01": ({"received_at": "2026-12-01T09:00:00+07:00", "documents": ["Tờ khai đăng ký khai sinh"]},
               "receipt_document", "bien-nhan",
               ["GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Tờ khai đăng ký khai sinh"]),
    "mau-02": ({"giay_to_thieu": MISSING, "ly_do_bo_sung": "Người nộp không phải cha, mẹ của trẻ"},
               "supplement_document", "mau-02",
               ["PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ",
                "Yêu cầu Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau", *MISSING,
                "Lý do: Người nộp không phải cha, mẹ của trẻ", "NGƯỜI HƯỚNG DẪN", "liên hệ Lê Văn Tâm"]),
    "mau-03": ({"ly_do_tu_choi": "Trẻ đã được đăng ký khai sinh tại UBND phường Đông Sơn"},
               "refusal_document", "mau-03",
               ["PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ",
                "thông báo không tiếp nhận, giải quyết hồ sơ này với lý do cụ thể như sau",
                "Trẻ đã được đăng ký khai sinh tại UBND phường Đông Sơn", "NGƯỜI TIẾP NHẬN HỒ SƠ"]),
    "mau-04": ({"late_reason": "Công chức tư pháp - hộ tịch nghỉ ốm đột xuất", "new_due_date": "2026-12-03",
                "apology_signed_by": "Chủ tịch UBND xã", "appointment_at": "2026-12-02T17:00:00+07:00"},
               "apology_document", "mau-04",
               ["PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ", "Kính gửi: Ông/Bà Nguyễn Thị Lan",
                "Lý do: Công chức tư pháp - hộ tịch nghỉ ốm đột xuất",
                "Thời gian hẹn trả kết quả mới: ngày 03 tháng 12 năm 2026",
                "hẹn trả kết quả: 17 giờ 00 phút, ngày 02 tháng 12 năm 2026", "Chủ tịch UBND xã"]),
    "mau-05": ({"de_xuat": "tu_choi", "ly_do_dung": "Thông tin trên Giấy chứng sinh không khớp với Tờ khai"},
               "stop_document", "mau-05",
               ["THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", "thông báo dừng giải quyết hồ sơ nêu trên",
                "Thông tin trên Giấy chứng sinh không khớp với Tờ khai", "khiếu nại, phản ánh, kiến nghị"]),
    "ket-qua": ({"de_xuat": "cap", "y_kien_tham_dinh": "Thông tin khai sinh đầy đủ", "y_kien_lanh_dao": "dong_y",
                 "result_name": "Giấy khai sinh (bản điện tử)"},
                "result_document", "ket-qua",
                ["KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "BẢN SAO DO HỆ THỐNG TẠO, KHÔNG PHẢI MẪU VĂN BẢN CHÍNH THỨC",
                 "Thủ tục hành chính: Đăng ký khai sinh", "Kết quả: Giấy khai sinh (bản điện tử)",
                 "Ý kiến thẩm định: Thông tin khai sinh đầy đủ", "Ý kiến của lãnh đạo: Đồng ý, ký ban hành kết quả"]),
}


def variables(kind: str, **changes) -> dict:
    """What the procedure holds when it asks for ``kind``, with ``changes``."""
    return {**COMMON, **KINDS[kind][0], "document_kind": kind, **changes}


def text_of(path: str) -> str:
    """The PDF's text with every run of whitespace collapsed to one space."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_renders_its_form_with_the_dossiers_data(kind, tmp_path):
    _, variable, suffix, expected = KINDS[kind]
    out = document.handle(variables(kind), out_dir=tmp_path)
    assert set(out) == {variable, "dossier_documents"}
    described = out[variable]
    path = Path(described["path"])
    assert described["filename"] == path.name == f"{CODE}-{suffix}.pdf" and path.parent == tmp_path.resolve()
    assert described["kind"] == kind and described["title"] == document.FORMS[kind].title
    assert described["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert described["pages"] == len(PdfReader(path).pages)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    text = text_of(described["path"])
    for words in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", f"Mã hồ sơ: {CODE}", "Nguyễn Thị Lan",
                  "Quảng Phú, ngày 01 tháng 12 năm 2026", f"https://dichvucong.example.vn/tra-cuu/{CODE}", *expected]:
        assert words in text, words


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_variables_give_the_same_file(kind, tmp_path):
    first = document.handle(variables(kind), out_dir=tmp_path / "a")
    second = document.handle(variables(kind), out_dir=tmp_path / "b")
    variable = KINDS[kind][1]
    assert first[variable]["sha256"] == second[variable]["sha256"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("missing", ["dossier_code", "applicant_name", "procedure_name"])
def test_missing_common_data_is_a_bpmn_error_for_every_kind(kind, missing, tmp_path):
    with pytest.raises(BpmnError, match="^Thiếu thông tin để in ") as err:
        document.handle(variables(kind, **{missing: ""}), out_dir=tmp_path)
    assert err.value.code == "DOCUMENT_DATA"
    assert list(tmp_path.iterdir()) == []


def test_without_a_kind_the_receipt_is_rendered_and_kinds_are_read_loosely(tmp_path):
    plain = {k: v for k, v in variables("mau-01").items() if k != "document_kind"}
    assert document.handle(plain, out_dir=tmp_path)["receipt_document"]["filename"] == f"{CODE}-bien-nhan.pdf"
    loose = document.handle(variables("mau-02", document_kind=" MAU-02 "), out_dir=tmp_path)
    assert loose["supplement_document"]["kind"] == "mau-02"


def test_a_document_no_variable_dates_is_dated_today(tmp_path):
    before = dt.datetime.now(document.VN_TZ).date()
    out = document.handle(variables("mau-05", issued_at=None), out_dir=tmp_path)
    after = dt.datetime.now(document.VN_TZ).date()  # the same day unless the test straddles midnight
    text = text_of(out["stop_document"]["path"])
    assert document.vn_date(before) in text or document.vn_date(after) in text


def test_an_unknown_kind_is_a_bpmn_error_naming_the_supported_ones(tmp_path):
    with pytest.raises(BpmnError) as err:
        document.handle({**COMMON, "document_kind": "mau-06"}, out_dir=tmp_path)
    assert err.value.code == "DOCUMENT_DATA"
    assert err.value.message.startswith("Không có mẫu văn bản 'mau-06' (document_kind)")
    assert "mau-01, mau-02, mau-03, mau-04, mau-05, ket-qua" in err.value.message
    assert list(tmp_path.iterdir()) == []


def test_the_supplement_lists_every_missing_item_even_over_several_pages(tmp_path):
    many = [f"Giấy tờ thứ {i} cần bổ sung theo quy định" for i in range(1, 61)]
    out = document.handle(variables("mau-02", giay_to_thieu=many, ly_do_bo_sung=None), out_dir=tmp_path)
    described = out["supplement_document"]
    text = text_of(described["path"])
    assert described["pages"] > 1
    assert all(f"{i} Giấy tờ thứ {i} cần bổ sung theo quy định" in text for i in range(1, 61))
    assert "Lý do: Hồ sơ chưa đầy đủ, hợp lệ theo quy định" in text


def test_supplement_items_may_be_mappings(tmp_path):
    items = [{"ten": "Giấy chứng sinh", "ghi_chu": "bản có chữ ký số"}, {"name": "Văn bản ủy quyền"}, "  "]
    out = document.handle(variables("mau-02", giay_to_thieu=items), out_dir=tmp_path)
    text = text_of(out["supplement_document"]["path"])
    assert "1 Giấy chứng sinh (bản có chữ ký số)" in text and "2 Văn bản ủy quyền Lý do:" in text


@pytest.mark.parametrize("kind, changes, message", [
    ("mau-02", {"giay_to_thieu": []}, "ít nhất một giấy tờ"),
    ("mau-02", {"giay_to_thieu": ["  "]}, "ít nhất một giấy tờ"),
    ("mau-02", {"giay_to_thieu": "Giấy chứng sinh"}, "giay_to_thieu.*phải là một danh sách"),
    ("mau-03", {"ly_do_tu_choi": " "}, r"Thiếu lý do từ chối tiếp nhận \(ly_do_tu_choi\)"),
    ("mau-04", {"late_reason": ""}, r"Thiếu lý do chậm trả kết quả \(late_reason\)"),
    ("mau-04", {"new_due_date": None}, r"new_due_date"),
    ("mau-04", {"new_due_date": "03/12/2026"}, "'03/12/2026' của new_due_date không hợp lệ"),
    ("mau-05", {"ly_do_dung": None}, r"Thiếu lý do dừng giải quyết hồ sơ \(ly_do_dung\)"),
    ("ket-qua", {"y_kien_lanh_dao": None}, "Chưa có ý kiến đồng ý của lãnh đạo"),
    ("ket-qua", {"y_kien_lanh_dao": "tra_lai"}, "Chưa có ý kiến đồng ý của lãnh đạo"),
    ("ket-qua", {"de_xuat": "tu_choi"}, "không phải đề xuất cấp kết quả"),
    ("mau-03", {"issued_at": "hôm nay"}, "issued_at"),
])
def test_missing_or_unusable_form_data_is_a_bpmn_error(kind, changes, message, tmp_path):
    with pytest.raises(BpmnError, match=message) as err:
        document.handle(variables(kind, **changes), out_dir=tmp_path)
    assert err.value.code == "DOCUMENT_DATA"
    assert list(tmp_path.iterdir()) == []


def test_an_automatic_refusal_gives_the_registrys_reason(tmp_path):
    reason = "Mã tỉnh nơi đăng ký khai sinh '999' không tồn tại"
    out = document.handle(variables("mau-03", ly_do_tu_choi=None, registry_error=reason,
                                    receiving_officer=None), out_dir=tmp_path)
    assert reason in text_of(out["refusal_document"]["path"])


def test_the_apologys_signer_falls_back_and_the_result_names_the_leader(tmp_path):
    apology = document.handle(variables("mau-04", apology_signed_by=None, signed_by="Trần Văn Hùng"),
                              out_dir=tmp_path)
    assert "Trần Văn Hùng" in text_of(apology["apology_document"]["path"])
    result = document.handle(variables("ket-qua", signed_by="Trần Văn Hùng"), out_dir=tmp_path)
    assert "Đồng ý, ký ban hành kết quả (Trần Văn Hùng)" in text_of(result["result_document"]["path"])


def test_dossier_documents_gathers_each_document_once(tmp_path):
    foreign = {"kind": "upload", "title": "Giấy chứng sinh", "filename": "gcs.pdf", "sha256": "0" * 64,
               "path": "/uploads/gcs.pdf"}
    listed = [foreign]
    for kind in ("mau-02", "mau-01", "ket-qua"):
        out = document.handle(variables(kind, dossier_documents=listed), out_dir=tmp_path)
        listed = out["dossier_documents"]
    assert [d["filename"] for d in listed] == ["gcs.pdf", f"{CODE}-mau-02.pdf", f"{CODE}-bien-nhan.pdf",
                                               f"{CODE}-ket-qua.pdf"]
    receipt = listed[2]
    assert set(receipt) == {"kind", "title", "filename", "sha256", "path"}
    assert receipt["kind"] == "mau-01" and receipt["title"] == "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    assert receipt["sha256"] == hashlib.sha256(Path(receipt["path"]).read_bytes()).hexdigest()
    again = document.handle(variables("mau-02", giay_to_thieu=["Giấy tờ khác"], dossier_documents=listed),
                            out_dir=tmp_path)["dossier_documents"]
    assert [d["filename"] for d in again] == [d["filename"] for d in listed]  # replaced in place
    assert again[1]["sha256"] != listed[1]["sha256"] and again[0] == foreign
    assert listed[1]["filename"] == f"{CODE}-mau-02.pdf"  # the list passed in is not changed


def test_a_dossier_documents_value_that_is_not_a_list_starts_a_new_one(tmp_path):
    out = document.handle(variables("mau-05", dossier_documents="?"), out_dir=tmp_path)
    assert [d["kind"] for d in out["dossier_documents"]] == ["mau-05"]


def test_the_birth_registration_scenarios_pass_with_the_real_document_worker(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTCUA_VAR_DIR", str(tmp_path / "var"))
    folder = tmp_path / "birth-registration"
    shutil.copytree(PROCESSES / "birth-registration", folder)
    defaults_path = folder / "scenarios" / "defaults.yaml"
    defaults = yaml.safe_load(defaults_path.read_text(encoding="utf-8"))
    defaults["workers"]["document"] = "real"
    defaults_path.write_text(yaml.safe_dump(defaults, allow_unicode=True), encoding="utf-8")
    calls: list[tuple[str, list[str]]] = []

    def recording(task_variables):
        out = document.handle(task_variables)
        calls.append((task_variables["document_kind"], [d["filename"] for d in out["dossier_documents"]]))
        return out

    results, _ = run_procedure(folder, FORMS, {**HANDLERS, document.TOPIC: recording},
                               [PROCESSES / "dossier-apology"])
    assert [r.failure for r in results] == [None] * len(results)
    assert {"mau-01", "mau-02", "mau-03", "mau-05", "ket-qua"} <= {kind for kind, _ in calls}
    # the supplement scenario: Form 02, then the receipt and the result, each call seeing the earlier ones
    assert [f"{CODE}-mau-02.pdf", f"{CODE}-bien-nhan.pdf", f"{CODE}-ket-qua.pdf"] in [files for _, files in calls]
    written = {p.name for p in (tmp_path / "var" / "documents").iterdir()}
    assert {f"{CODE}-{suffix}.pdf" for suffix in ("bien-nhan", "mau-02", "mau-03", "mau-05", "ket-qua")} <= written
