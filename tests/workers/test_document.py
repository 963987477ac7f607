"""The ``document`` handler: the receipt and appointment slip (Form 01) as a PDF with a QR code.

The PDF is read back with pypdf: the Vietnamese text must come out exactly as it went in, which only
happens when a Unicode font is embedded with its character map. The QR code is checked twice: the image
embedded in the PDF must equal, pixel for pixel, segno's matrix for the status URL (always), and it must
decode to that URL with zxing-cpp (when zxing-cpp is installed; skipped otherwise).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from pathlib import Path

import pytest
import segno
from pypdf import PdfReader

from workers import document
from workers.errors import BpmnError

CODE = "000.00.00.H56-260305-0001"
URL = f"https://dichvucong.example.vn/tra-cuu/{CODE}"
VARIABLES = {
    "dossier_code": CODE,
    "applicant_name": "Nguyễn Thị Hương",
    "procedure_name": "Đăng ký thường trú",
    "citizen_id": "001305012345",
    "applicant_address": "Số 5 phố Hàng Bạc, Phường Hàng Bạc, Hà Nội",
    "applicant_phone": "0912345678",
    "documents": ["Tờ khai thay đổi thông tin cư trú (CT01)",
                  {"name": "Giấy tờ chứng minh chỗ ở hợp pháp", "form": "Bản sao", "note": "đã đối chiếu"}],
    "received_at": "2026-03-05T14:30:00+07:00",
    "appointment_at": "2026-03-12T16:00:00+07:00",
    "receiving_agency": "UBND phường Hoàn Kiếm",
    "parent_agency": "UBND thành phố Hà Nội",
    "receiving_officer": "Trần Văn Bình",
    "place": "Hà Nội",
    "portal_url": "https://dichvucong.example.vn/",
}


@pytest.fixture
def receipt(tmp_path):
    result = document.handle(dict(VARIABLES), out_dir=tmp_path)["receipt_document"]
    return result, PdfReader(result["path"])


def test_the_slip_is_written_where_asked_and_described(receipt, tmp_path):
    result, reader = receipt
    path = Path(result["path"])
    assert path.parent == tmp_path.resolve() and result["filename"] == path.name == f"{CODE}-bien-nhan.pdf"
    assert result["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result["pages"] == len(reader.pages) == 1
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left behind


def test_the_vietnamese_text_survives_a_round_trip(receipt):
    text = "\n".join(page.extract_text() for page in receipt[1].pages)
    for expected in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", f"Mã hồ sơ: {CODE}",
                     "Nguyễn Thị Hương", "Đăng ký thường trú", "Phường Hàng Bạc", "Trần Văn Bình",
                     "Giấy tờ chứng minh chỗ ở hợp pháp", "UBND phường Hoàn Kiếm",
                     "Hà Nội, ngày 05 tháng 3 năm 2026", "14 giờ 30 phút, ngày 05 tháng 3 năm 2026",
                     "16 giờ 00 phút, ngày 12 tháng 3 năm 2026", URL]:
        assert expected in text


def test_decomposed_input_is_printed_composed(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
    assert decomposed != "Nguyễn Thị Hương"
    result = document.handle({**VARIABLES, "applicant_name": decomposed}, out_dir=tmp_path)["receipt_document"]
    assert "Nguyễn Thị Hương" in PdfReader(result["path"]).pages[0].extract_text()


def test_the_embedded_qr_image_is_the_status_url_code(receipt):
    (image,) = receipt[1].pages[0].images
    pixels = image.image.convert("L")
    expected = [list(row) for row in document.qr_code(URL).matrix_iter(scale=8, border=4)]
    assert pixels.size == (len(expected[0]), len(expected))
    assert all((pixels.getpixel((x, y)) < 128) == bool(expected[y][x])
               for y in range(pixels.height) for x in range(pixels.width))
    assert segno.make_qr(URL, error="m").matrix == document.qr_code(URL).matrix


def test_the_embedded_qr_decodes_to_the_status_url(receipt):
    zxingcpp = pytest.importorskip("zxingcpp")
    (image,) = receipt[1].pages[0].images
    assert [code.text for code in zxingcpp.read_barcodes(image.image)] == [URL]


def test_the_status_url_comes_from_the_variable_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv("MOTCUA_PUBLIC_URL", raising=False)
    assert document.status_url(CODE) == f"http://localhost:5000/tra-cuu/{CODE}"
    monkeypatch.setenv("MOTCUA_PUBLIC_URL", "https://motcua.example.vn/")
    assert document.status_url(CODE) == f"https://motcua.example.vn/tra-cuu/{CODE}"
    assert document.status_url(CODE, "http://portal:8080") == f"http://portal:8080/tra-cuu/{CODE}"


def test_the_default_folder_is_under_the_var_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTCUA_VAR_DIR", str(tmp_path))
    result = document.handle(dict(VARIABLES))["receipt_document"]
    assert Path(result["path"]) == (tmp_path / "documents" / f"{CODE}-bien-nhan.pdf").resolve()


def test_the_same_variables_give_the_same_file(tmp_path):
    first = document.handle(dict(VARIABLES), out_dir=tmp_path / "a")["receipt_document"]
    second = document.handle(dict(VARIABLES), out_dir=tmp_path / "b")["receipt_document"]
    assert first["sha256"] == second["sha256"]


def test_minimal_variables_and_a_long_document_list(tmp_path):
    many = [f"Giấy tờ số {i} kèm theo hồ sơ đăng ký thường trú" for i in range(1, 41)]
    result = document.handle({"dossier_code": CODE, "applicant_name": "Lê Văn Nam", "procedure_name": "Khai sinh",
                              "documents": many}, out_dir=tmp_path)["receipt_document"]
    reader = PdfReader(result["path"])
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert result["pages"] == len(reader.pages) > 1
    assert "Giấy tờ số 40 kèm theo" in text and "chưa xác định" in text


def test_camunda_dates_and_plain_dates(tmp_path):
    result = document.handle({**VARIABLES, "received_at": "2026-02-05T07:30:00.000+0000",
                              "appointment_at": "2026-02-12"}, out_dir=tmp_path)["receipt_document"]
    text = PdfReader(result["path"]).pages[0].extract_text()
    assert "nhận hồ sơ: 14 giờ 30 phút, ngày 05 tháng 02 năm 2026" in text  # UTC shown in Vietnam time
    assert "trả kết quả giải quyết hồ sơ: ngày 12 tháng 02 năm 2026" in text


@pytest.mark.parametrize("missing", ["dossier_code", "applicant_name", "procedure_name"])
def test_missing_data_is_a_bpmn_error(missing, tmp_path):
    with pytest.raises(BpmnError) as err:
        document.handle({**VARIABLES, missing: "  "}, out_dir=tmp_path)
    assert err.value.code == "DOCUMENT_DATA"
    assert err.value.message.startswith("Thiếu thông tin để in giấy tiếp nhận: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change, words", [
    ({"dossier_code": "../../etc/passwd"}, "Mã hồ sơ"),
    ({"received_at": "05/03/2026"}, "received_at"),
    ({"documents": "CT01"}, "documents"),
])
def test_unusable_data_is_a_bpmn_error(change, words, tmp_path):
    with pytest.raises(BpmnError, match=words) as err:
        document.handle({**VARIABLES, **change}, out_dir=tmp_path)
    assert err.value.code == "DOCUMENT_DATA"


def test_no_font_is_a_clear_error(tmp_path):
    with pytest.raises(document.FontNotFound, match="fonts-dejavu-core"):
        document.find_font([(str(tmp_path / "none.ttf"), str(tmp_path / "none-bold.ttf"))])
    (tmp_path / "only.ttf").write_bytes(b"")
    assert document.find_font([(str(tmp_path / "only.ttf"), str(tmp_path / "no-bold.ttf"))]) == (
        tmp_path / "only.ttf", tmp_path / "only.ttf")


def test_vietnamese_dates():
    assert document.vn_date(dt.date(2026, 1, 5)) == "ngày 05 tháng 01 năm 2026"
    assert document.vn_date(dt.date(2026, 11, 24)) == "ngày 24 tháng 11 năm 2026"
    assert document.vn_moment(dt.datetime(2026, 3, 5, 8, 5)) == "8 giờ 05 phút, ngày 05 tháng 3 năm 2026"
