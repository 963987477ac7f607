"""The esign-verify handler, against real PAdES signatures made by a throw-away test CA."""
from __future__ import annotations

import base64
import datetime as dt
import io
import re

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from workers import esign_verify
from workers.errors import BpmnError, RetryableError

NOW = dt.datetime.now(dt.timezone.utc)
SIGNER_NAME = "Nguyễn Văn An"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Motcua Test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _make_ca(common_name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=True, crl_sign=True, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_signer(ca_key, ca_cert, common_name: str):
    """A pyHanko signer whose certificate (digitalSignature + nonRepudiation) is issued by the CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(hours=1)).not_valid_after(NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    der = serialization.Encoding.DER
    key_der = key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(ca_cert.public_bytes(der))]))


@pytest.fixture(scope="module")
def pki():
    """The trusted root with its signer, and a second self-made CA that nobody configured."""
    root_key, root = _make_ca("Motcua Test Root CA")
    rogue_key, rogue = _make_ca("Rogue CA")
    return {"root": root, "signer": _make_signer(root_key, root, SIGNER_NAME),
            "rogue_signer": _make_signer(rogue_key, rogue, "Kẻ Giả Mạo")}


def _pdf() -> bytes:
    pdf = FPDF()
    pdf.set_compression(False)  # keeps the page text readable in the file, so a test can alter it
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(text="Don de nghi cap giay phep - so tien 1.000.000 dong")
    return bytes(pdf.output())


def _sign(data: bytes, signer) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name="ChuKy1", subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.PdfSigner(meta, signer=signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)))
    return out.getvalue()


@pytest.fixture(scope="module")
def signed(pki) -> bytes:
    return _sign(_pdf(), pki["signer"])


def _check(data: bytes, pki) -> dict:
    return esign_verify.handle({"document_b64": base64.b64encode(data).decode()}, trust_roots=[pki["root"]])


def test_a_good_signature_is_valid_and_names_the_signer(signed, pki, tmp_path):
    path = tmp_path / "don.pdf"
    path.write_bytes(signed)
    for document in (str(path), {"path": str(path)}):
        result = esign_verify.handle({"document": document}, trust_roots=[pki["root"]])
        assert result["signature_valid"] is True
        [sig] = result["signatures"]
        assert sig["signer"] == SIGNER_NAME and f"CN={SIGNER_NAME}" in sig["signer_id"]
        assert sig["intact"] and sig["trusted"] and sig["covers_whole_document"]
        signing_time = dt.datetime.fromisoformat(sig["signing_time"])
        assert abs(signing_time - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=10)
        local = signing_time.astimezone(esign_verify.VIETNAM_TIME)
        assert sig["reason_vi"] == f"Chữ ký hợp lệ, do {SIGNER_NAME} ký lúc {local:%H:%M ngày %d/%m/%Y} (giờ Việt Nam)"


def test_a_signer_from_an_unconfigured_ca_is_not_trusted(pki):
    result = _check(_sign(_pdf(), pki["rogue_signer"]), pki)
    [sig] = result["signatures"]
    assert result["signature_valid"] is False
    assert sig["intact"] is True and sig["trusted"] is False and sig["signer"] == "Kẻ Giả Mạo"
    assert sig["reason_vi"] == ("Chứng thư số của người ký không được tin cậy "
                                "(không chain tới CA gốc đã cấu hình)")
    assert result["signature_reason_vi"] == sig["reason_vi"]


def test_changing_signed_content_breaks_the_signature(signed, pki):
    assert signed.count(b"1.000.000") == 1
    result = _check(signed.replace(b"1.000.000", b"9.000.000"), pki)
    [sig] = result["signatures"]
    assert result["signature_valid"] is False and sig["intact"] is False
    assert sig["reason_vi"].startswith("Tài liệu đã bị sửa đổi sau khi ký")


def test_a_mangled_signature_is_reported_not_crashed_on(signed, pki):
    start, end = re.search(rb"/Contents <([0-9a-fA-F]+)>", signed).span(1)
    for mangled in (signed[:start] + b"0" * (end - start) + signed[end:],
                    signed[:start + 10] + b"ff" * 20 + signed[start + 50:]):
        result = _check(mangled, pki)
        [sig] = result["signatures"]
        assert result["signature_valid"] is False and sig["intact"] is False
        assert sig["reason_vi"].startswith("Chữ ký số bị hỏng hoặc không đúng định dạng")


def test_content_added_after_signing_is_not_covered(signed, pki):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    text = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 12 Tf 20 20 Td (So tien: 9 ty) Tj ET"))
    writer.add_stream_to_page(0, text)
    out = io.BytesIO()
    writer.write(out)
    result = _check(out.getvalue(), pki)
    [sig] = result["signatures"]
    assert result["signature_valid"] is False
    assert sig["intact"] is True and sig["trusted"] is True and sig["covers_whole_document"] is False
    assert sig["reason_vi"].startswith("Tài liệu đã bị bổ sung nội dung sau khi ký")


def test_a_second_signature_keeps_the_first_valid(signed, pki):
    meta = signers.PdfSignatureMetadata(field_name="ChuKy2", subfilter=fields.SigSeedSubFilter.PADES)
    twice = signers.PdfSigner(meta, signer=pki["signer"]).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(signed)))
    result = _check(twice.getvalue(), pki)
    first, second = result["signatures"]
    assert result["signature_valid"] is True
    assert first["covers_whole_document"] is False and second["covers_whole_document"] is True
    assert "chỉ được bổ sung chữ ký số khác" in first["reason_vi"]


def test_an_unsigned_pdf_has_no_valid_signature(pki):
    result = _check(_pdf(), pki)
    assert result == {"signature_valid": False, "signatures": [],
                      "signature_reason_vi": "Tài liệu không có chữ ký số"}


@pytest.mark.parametrize("data", [b"\x00\x01garbage" * 50, b"%PDF-1.7\n%garbage, no trailer\n"])
def test_a_file_that_is_not_a_readable_pdf_is_a_bpmn_error(data, pki):
    with pytest.raises(BpmnError) as caught:
        _check(data, pki)
    assert caught.value.code == "INVALID_DOCUMENT" and "PDF" in caught.value.message
    assert caught.value.variables["signature_valid"] is False


def test_bad_references_to_the_document_are_bpmn_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_UPLOADS_DIR", str(tmp_path / "uploads"))
    (tmp_path / "uploads").mkdir()
    (tmp_path / "secret.pdf").write_bytes(_pdf())
    for variables in ({}, {"document": "khong-co.pdf"}, {"document": "../secret.pdf"},
                      {"document_b64": "không phải base64"}):
        with pytest.raises(BpmnError) as caught:
            esign_verify.handle(variables, trust_roots=[])
        assert caught.value.code == "INVALID_DOCUMENT"


def test_trust_roots_come_from_the_configured_folder(signed, pki, tmp_path, monkeypatch):
    folder = tmp_path / "roots"
    folder.mkdir()
    (folder / "README.txt").write_text("không phải chứng thư")
    (folder / "root.pem").write_bytes(pki["root"].public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("MOTCUA_TRUST_ROOTS_DIR", str(folder))
    assert esign_verify.handle({"document_b64": base64.b64encode(signed).decode()})["signature_valid"] is True

    (folder / "root.pem").unlink()
    with pytest.raises(RetryableError, match="no certificates"):
        esign_verify.handle({"document_b64": base64.b64encode(signed).decode()})
    monkeypatch.delenv("MOTCUA_TRUST_ROOTS_DIR")
    with pytest.raises(RetryableError, match="MOTCUA_TRUST_ROOTS_DIR"):
        esign_verify.handle({"document_b64": base64.b64encode(signed).decode()})


def test_a_task_may_name_the_variable_that_holds_its_document(signed, pki, tmp_path):
    """The certified copy checks the leader's signed copy, not the application's own upload."""
    unsigned, copy = tmp_path / "ban-chinh.pdf", tmp_path / "ban-sao-ky-so.pdf"
    unsigned.write_bytes(b"%PDF-1.4\n%%EOF\n")
    copy.write_bytes(signed)
    variables = {"document": str(unsigned), "ban_sao_ky_so": str(copy), "document_variable": "ban_sao_ky_so"}
    assert esign_verify.handle(variables, trust_roots=[pki["root"]])["signature_valid"] is True
    with pytest.raises(BpmnError) as err:
        esign_verify.handle({**variables, "document_variable": "khong_co"}, trust_roots=[pki["root"]])
    assert err.value.code == "INVALID_DOCUMENT"
