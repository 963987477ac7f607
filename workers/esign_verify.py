"""Topic ``esign-verify``: check the PAdES signatures of an uploaded PDF against the configured CA roots.

A signature counts as valid when the signed bytes are unchanged (``intact``), the signer's certificate
chains to a configured root (``trusted``) and nothing but further signatures or form filling was added
to the file after it was signed. Revocation is not fetched (no network access from the worker).
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import io
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import EmbeddedPdfSignature, SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from engine.config import load_settings
from workers.errors import BpmnError, RetryableError

TOPIC = "esign-verify"
VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")  # no daylight saving in Việt Nam
_CERT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}


def trust_roots_dir() -> Path | None:
    """The folder of trusted root certificates (PEM or DER), from ``MOTCUA_TRUST_ROOTS_DIR``."""
    return load_settings().trust_roots_dir


def uploads_dir() -> Path | None:
    """The folder uploaded documents live in, from ``MOTCUA_UPLOADS_DIR`` (``None``: any path)."""
    return load_settings().uploads_dir


def load_trust_roots(folder: Path) -> list[asn1_x509.Certificate]:
    """Every certificate in the ``.pem``/``.crt``/``.cer``/``.der`` files of ``folder``
    (a PEM file may hold several)."""
    roots = []
    for file in sorted(folder.iterdir()):
        if file.suffix.lower() not in _CERT_SUFFIXES or not file.is_file():
            continue
        data = file.read_bytes()
        if pem.detect(data):
            roots.extend(asn1_x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                         if kind == "CERTIFICATE")
        else:
            roots.append(asn1_x509.Certificate.load(data))
    return roots


def _as_asn1(cert: Any) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))  # a cryptography certificate


def _configured_roots(trust_roots: list[Any] | None) -> list[asn1_x509.Certificate]:
    if trust_roots is not None:
        return [_as_asn1(cert) for cert in trust_roots]
    folder = trust_roots_dir()
    if folder is None:
        raise RetryableError("MOTCUA_TRUST_ROOTS_DIR is not set: no root certificates to verify signatures")
    try:
        roots = load_trust_roots(folder)
    except (OSError, ValueError) as err:
        raise RetryableError(f"cannot read the trust roots in {folder}: {err}") from err
    if not roots:
        raise RetryableError(f"no certificates (.pem/.crt/.cer/.der) in the trust roots folder {folder}")
    return roots


def _invalid(message: str) -> BpmnError:
    return BpmnError("INVALID_DOCUMENT", message, {"signature_valid": False, "signatures": [],
                                                   "signature_error": message, "signature_reason_vi": message})


def _read_document(variables: dict[str, Any]) -> bytes:
    if variables.get("document_b64"):
        try:
            return base64.b64decode(str(variables["document_b64"]), validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("Nội dung tài liệu (base64) không hợp lệ") from None
    # a procedure whose task checks another file than the application's names it (an input parameter)
    document = variables.get(str(variables.get("document_variable") or "document"))
    if isinstance(document, dict):
        document = document.get("path")
    if not document or not isinstance(document, str):
        raise _invalid("Không có tài liệu để kiểm tra chữ ký số")
    path, base = Path(document), uploads_dir()
    if base is not None:
        path = (base / path).resolve()
        if not path.is_relative_to(base.resolve()):
            raise _invalid("Đường dẫn tài liệu nằm ngoài thư mục tải lên")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise _invalid("Không tìm thấy tệp tài liệu đã tải lên") from None
    except OSError as err:
        raise RetryableError(f"cannot read {path}: {err}") from err


def _open_pdf(data: bytes) -> PdfFileReader:
    if not data.lstrip()[:5] == b"%PDF-":
        raise _invalid("Tệp tải lên không phải là tài liệu PDF")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        reader.root  # noqa: B018 - forces the trailer and catalogue to be parsed
    except (PdfError, ValueError, KeyError, TypeError, IndexError) as err:
        raise _invalid(f"Không đọc được tài liệu PDF (tệp bị hỏng): {err}") from None
    if reader.encrypted:
        raise _invalid("Tài liệu PDF được bảo vệ bằng mật khẩu, không kiểm tra được chữ ký số")
    return reader


def _common_name(cert: asn1_x509.Certificate) -> str:
    subject = cert.subject.native
    return str(subject.get("common_name") or cert.subject.human_friendly)


def _untrusted_reason(indic: Any) -> str:
    name = getattr(indic, "name", "")
    if name.startswith("REVOKED"):
        return "Chứng thư số của người ký đã bị thu hồi"
    if name in {"EXPIRED", "NOT_YET_VALID"} or name.startswith("OUT_OF_BOUNDS"):
        return "Chứng thư số của người ký đã hết hạn hoặc chưa có hiệu lực"
    if name in {"SIG_CONSTRAINTS_FAILURE", "CHAIN_CONSTRAINTS_FAILURE"}:
        return "Chứng thư số của người ký không được phép dùng để ký số (sai mục đích sử dụng khoá)"
    return "Chứng thư số của người ký không được tin cậy (không chain tới CA gốc đã cấu hình)"


_BROKEN = {"signer": None, "signer_id": None, "signing_time": None, "intact": False, "trusted": False,
           "covers_whole_document": False, "ok": False,
           "reason_vi": "Chữ ký số bị hỏng hoặc không đúng định dạng, không kiểm tra được"}


def _check(embedded, roots: list[asn1_x509.Certificate]) -> dict[str, Any]:
    """Validate one embedded signature; returns the per-signature variables plus ``ok``."""
    try:
        cert = embedded.signer_cert
        subject = x509.load_der_x509_certificate(cert.dump()).subject.rfc4514_string()
        signer, signer_id = _common_name(cert), f"{cert.serial_number:X}/{subject}"
    except Exception:  # noqa: BLE001 - an unreadable CMS blob is a broken signature, not a crash
        signer, signer_id = None, None
    result = dict(_BROKEN, signer=signer, signer_id=signer_id)
    try:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        status = validate_pdf_signature(embedded, signer_validation_context=context)
    except Exception as err:  # noqa: BLE001 - pyHanko raises many kinds for malformed signatures
        return dict(result, reason_vi=f"{_BROKEN['reason_vi']} ({type(err).__name__})")
    when = status.signer_reported_dt
    tst = status.timestamp_validity
    if tst is not None and tst.intact and tst.valid and tst.trusted:  # a trusted TSA beats the signer's clock
        when = tst.timestamp
    whole = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    level = status.modification_level
    later_ok = whole or (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and bool(status.docmdp_ok)
                         and level is not None and level <= ModificationLevel.FORM_FILLING)
    intact = bool(status.intact and status.valid)
    trusted = bool(status.trusted)
    result.update(signing_time=when.isoformat() if when else None, intact=intact, trusted=trusted,
                  covers_whole_document=whole, ok=intact and trusted and later_ok)
    if not intact:
        reason = "Tài liệu đã bị sửa đổi sau khi ký (chữ ký số không còn khớp với nội dung)"
    elif not later_ok:
        reason = "Tài liệu đã bị bổ sung nội dung sau khi ký (phần thêm vào không được chữ ký này bảo đảm)"
    elif not trusted:
        reason = _untrusted_reason(status.trust_problem_indic)
    else:
        at = f" lúc {when.astimezone(VIETNAM_TIME):%H:%M ngày %d/%m/%Y} (giờ Việt Nam)" if when else ""
        reason = f"Chữ ký hợp lệ, do {signer} ký{at}"
        if not whole:
            reason += "; sau đó tài liệu chỉ được bổ sung chữ ký số khác"
    result["reason_vi"] = reason
    return result


def handle(variables: dict[str, Any], trust_roots: list[Any] | None = None) -> dict[str, Any]:
    """Return ``signature_valid`` (at least one signature, and every signature intact, trusted and
    followed by nothing but further signatures) of the PDF at ``document`` (or in the variable that
    ``document_variable`` names), ``signatures`` (one dict per signature, with
    ``reason_vi``) and ``signature_reason_vi`` (the first failure, or the signers). A document that is
    not a readable PDF is a BPMN error ``INVALID_DOCUMENT``; missing trust roots are retried (an incident)."""
    reader = _open_pdf(_read_document(variables))
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except (PdfError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise _invalid(f"Không đọc được các trường chữ ký số trong tài liệu PDF: {err}") from None
    embedded: list[EmbeddedPdfSignature | None] = []
    for name, sig_object, field in fields:
        try:
            if sig_object.get_object().get("/Type") == "/DocTimeStamp":
                continue  # a document timestamp, not somebody's signature
            embedded.append(EmbeddedPdfSignature(reader, field, name))
        except Exception:  # noqa: BLE001 - a mangled /Contents or /ByteRange: a broken signature
            embedded.append(None)
    if not embedded:
        return {"signature_valid": False, "signatures": [],
                "signature_reason_vi": "Tài liệu không có chữ ký số"}
    roots = _configured_roots(trust_roots)
    embedded.sort(key=lambda sig: (sig is None, sig.signed_revision if sig else 0))
    signatures = [_check(sig, roots) if sig else dict(_BROKEN) for sig in embedded]
    failed = [sig["reason_vi"] for sig in signatures if not sig.pop("ok")]
    summary = failed[0] if failed else "; ".join(sig["reason_vi"] for sig in signatures)
    return {"signature_valid": not failed, "signatures": signatures, "signature_reason_vi": summary}
