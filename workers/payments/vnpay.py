"""VNPay 2.1.0 payments: signed payment URLs, IPN replies, return-URL checks, QueryDR reconciliation.

Library code, no Flask and no database (see ``reference/one-stop-domain.md`` § VNPay IPN):

* signing: every ``vnp_*`` parameter but ``vnp_SecureHash``/``vnp_SecureHashType``, sorted by key,
  ``key=value`` URL-encoded like PHP ``urlencode`` (:func:`urllib.parse.quote_plus`), joined by ``&``,
  then hex HMAC-SHA512 with the merchant's secret, compared case-insensitively in constant time;
* only the IPN (server to server) settles an order; the browser's return URL only shows the outcome;
* an order settles once: :meth:`OrderStore.settle` is a compare-and-set on ``status='pending'``;
* an IPN that never came is made up for by :func:`reconcile`, which asks the ``querydr`` API.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from urllib.parse import quote_plus, urlsplit

log = logging.getLogger(__name__)

VERSION = "2.1.0"
GMT7 = timezone(timedelta(hours=7), "GMT+7")
DATE_FORMAT = "%Y%m%d%H%M%S"  # yyyyMMddHHmmss, in GMT+7
HASH_KEYS = ("vnp_SecureHash", "vnp_SecureHashType")
QUERYDR_REQUEST_FIELDS = ("vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TxnRef",
                          "vnp_TransactionDate", "vnp_CreateDate", "vnp_IpAddr", "vnp_OrderInfo")
QUERYDR_RESPONSE_FIELDS = ("vnp_ResponseId", "vnp_Command", "vnp_ResponseCode", "vnp_Message", "vnp_TmnCode",
                           "vnp_TxnRef", "vnp_Amount", "vnp_BankCode", "vnp_PayDate", "vnp_TransactionNo",
                           "vnp_TransactionType", "vnp_TransactionStatus", "vnp_OrderInfo",
                           "vnp_PromotionCode", "vnp_PromotionAmount")
RESULT_MESSAGES = {"00": "Giao dịch thành công", "07": "Giao dịch bị nghi ngờ gian lận",
                   "09": "Thẻ/tài khoản chưa đăng ký Internet Banking", "11": "Hết hạn chờ thanh toán",
                   "12": "Thẻ/tài khoản bị khóa", "24": "Khách hàng đã hủy giao dịch",
                   "51": "Tài khoản không đủ số dư", "65": "Vượt hạn mức giao dịch trong ngày"}


class VnpayError(Exception):
    """The VNPay exchange failed."""


class PaymentsUnavailable(VnpayError):
    """Neither a real VNPay terminal nor the stand-in is configured: fees cannot be paid."""

    def __init__(self):
        super().__init__(UNAVAILABLE_MESSAGE)


UNAVAILABLE_MESSAGE = ("Chưa cấu hình cổng thanh toán: đặt MOTCUA_VNPAY_URL (cổng VNPay thật) hoặc "
                       "MOTCUA_VNPAY_STANDIN=1 (cổng thử nghiệm, chỉ dùng cho demo).")


class InvalidSignature(VnpayError):
    """The message's vnp_SecureHash does not match its content."""


@dataclass(frozen=True)
class VnpayConfig:
    """A merchant's terminal at VNPay (or at the stand-in gateway)."""

    tmn_code: str
    hash_secret: str = field(repr=False)
    pay_url: str
    return_url: str
    ipn_url: str | None = None
    api_url: str | None = None

    @classmethod
    def from_settings(cls, settings=None) -> VnpayConfig:
        """The configuration from ``MOTCUA_VNPAY_*`` (read by :mod:`engine.config`): a real terminal, or, only
        when ``MOTCUA_VNPAY_STANDIN=1``, the local stand-in gateway under ``MOTCUA_PUBLIC_URL``. Raises
        :class:`PaymentsUnavailable` with neither, and :class:`VnpayError` for a real gateway without its own
        terminal code and secret."""
        from engine.config import STANDIN_HASH_SECRET, STANDIN_TMN_CODE, load_settings
        s = settings or load_settings()
        if not s.payments_available:
            raise PaymentsUnavailable()
        if s.payment_standin:
            return cls(s.vnpay_tmn_code or STANDIN_TMN_CODE, s.vnpay_hash_secret or STANDIN_HASH_SECRET,
                       f"{s.public_url}/sandbox-vnpay/paymentv2/vpcpay.html",
                       s.vnpay_return_url or f"{s.public_url}/payments/vnpay/return",
                       s.vnpay_ipn_url or f"{s.public_url}/payments/vnpay/ipn",
                       s.vnpay_api_url or f"{s.public_url}/sandbox-vnpay/merchant_webapi/api/transaction")
        missing = [name for name, value, public in (
            ("MOTCUA_VNPAY_TMN_CODE", s.vnpay_tmn_code, STANDIN_TMN_CODE),
            ("MOTCUA_VNPAY_HASH_SECRET", s.vnpay_hash_secret, STANDIN_HASH_SECRET)) if not value or value == public]
        if missing:
            raise VnpayError("MOTCUA_VNPAY_URL names a real gateway, so set " + ", ".join(missing))
        return cls(s.vnpay_tmn_code, s.vnpay_hash_secret,
                   s.vnpay_url,
                   s.vnpay_return_url or f"{s.public_url}/payments/vnpay/return",
                   s.vnpay_ipn_url or f"{s.public_url}/payments/vnpay/ipn",
                   s.vnpay_api_url or f"{s.public_url}/sandbox-vnpay/merchant_webapi/api/transaction")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VnpayConfig:
        """:meth:`from_settings` for this environment (``os.environ`` by default)."""
        from engine.config import load_settings
        return cls.from_settings(load_settings(environ))


def format_date(moment: datetime) -> str:
    """``yyyyMMddHHmmss`` in GMT+7; a naive datetime is taken as UTC (the project stores UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(GMT7).strftime(DATE_FORMAT)


def parse_date(text: str | None) -> datetime | None:
    """A VNPay ``yyyyMMddHHmmss`` (GMT+7) as an aware UTC datetime; None if absent or malformed."""
    try:
        return datetime.strptime(str(text), DATE_FORMAT).replace(tzinfo=GMT7).astimezone(timezone.utc)
    except ValueError:
        return None


def _plain(params: Mapping[str, Any]) -> dict[str, str]:
    # Iterate keys and index, so a werkzeug MultiDict yields its first values, not lists.
    return {str(key): "" if params[key] is None else str(params[key]) for key in params}


def encode(params: Mapping[str, Any]) -> str:
    """The string VNPay signs: the ``vnp_*`` fields but the hash, sorted, ``quote_plus``-encoded."""
    fields = {k: v for k, v in _plain(params).items() if k.startswith("vnp_") and k not in HASH_KEYS}
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(fields.items()))


def hmac_sha512(secret: str, data: str) -> str:
    """Hex HMAC-SHA512 of UTF-8 ``data``."""
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def sign(params: Mapping[str, Any], secret: str) -> str:
    """``vnp_SecureHash`` for these parameters."""
    return hmac_sha512(secret, encode(params))


def signed_query(params: Mapping[str, Any], secret: str) -> str:
    """The encoded parameters followed by ``&vnp_SecureHash=…``, ready to follow a ``?``."""
    return f"{encode(params)}&vnp_SecureHash={sign(params, secret)}"


def same_digest(expected: str, received: Any) -> bool:
    """Constant-time, case-insensitive comparison of hex digests."""
    return hmac.compare_digest(expected.lower().encode(), str(received or "").lower().encode("utf-8"))


def verify_signature(params: Mapping[str, Any], secret: str) -> bool:
    """Whether ``vnp_SecureHash`` signs the other ``vnp_*`` parameters."""
    received = params.get("vnp_SecureHash")
    return bool(received) and same_digest(sign(params, secret), received)


def sign_pipe(data: Mapping[str, Any], fields: Iterable[str], secret: str) -> str:
    """HMAC-SHA512 over the ``|``-joined values of ``fields`` (the API's checksum; absent fields are empty)."""
    return hmac_sha512(secret, "|".join("" if data.get(f) is None else str(data[f]) for f in fields))


def join_url(url: str, query: str) -> str:
    """``url`` with ``query`` appended after ``?`` or ``&``."""
    return url + ("&" if "?" in url else "?") + query


def build_payment_url(config: VnpayConfig, txn_ref: str, amount_vnd: int, order_info: str, ip_addr: str,
                      create_date: datetime, expire_minutes: int = 15, locale: str = "vn",
                      bank_code: str | None = None) -> str:
    """The gateway URL to send the citizen's browser to, signed; ``create_date`` must be stored with the
    order (``Order.created_at``): QueryDR names the transaction by it."""
    if isinstance(amount_vnd, bool) or not isinstance(amount_vnd, int) or amount_vnd <= 0:
        raise ValueError(f"amount_vnd must be a positive whole number of đồng, not {amount_vnd!r}")
    params = {"vnp_Version": VERSION, "vnp_Command": "pay", "vnp_TmnCode": config.tmn_code,
              "vnp_Amount": amount_vnd * 100, "vnp_CurrCode": "VND", "vnp_TxnRef": txn_ref,
              "vnp_OrderInfo": order_info, "vnp_OrderType": "other", "vnp_Locale": locale,
              "vnp_ReturnUrl": config.return_url, "vnp_IpAddr": ip_addr,
              "vnp_CreateDate": format_date(create_date),
              "vnp_ExpireDate": format_date(create_date + timedelta(minutes=expire_minutes))}
    if bank_code:
        params["vnp_BankCode"] = bank_code
    return join_url(config.pay_url, signed_query(params, config.hash_secret))


@dataclass(frozen=True)
class Order:
    """A fee to pay (mirrors the ``payment_order`` row); times are aware UTC."""

    txn_ref: str
    amount_vnd: int
    status: str = "pending"  # pending, paid, failed
    business_key: str | None = None  # the dossier code
    order_info: str = ""
    created_at: datetime | None = None  # the vnp_CreateDate of the payment URL
    instance_id: str | None = None
    message_name: str | None = None
    bank_txn_no: str | None = None
    paid_at: datetime | None = None
    raw: dict[str, str] | None = None


class OrderStore(Protocol):
    """Where orders live. ``settle`` must be atomic (``UPDATE … WHERE status = 'pending'``)."""

    def get(self, txn_ref: str) -> Order | None: ...

    def settle(self, txn_ref: str, status: str, bank_txn_no: str | None, pay_date: datetime | None,
               raw: dict[str, str]) -> bool: ...


@dataclass(frozen=True)
class IpnReply:
    """The answer to VNPay, and what happened: correlate into the process only when ``settled``."""

    rsp_code: str
    message: str
    settled: bool = False
    order: Order | None = None  # the order as it stands after the call (None for 97 and 01)

    def as_json(self) -> dict[str, str]:
        """The body VNPay expects."""
        return {"RspCode": self.rsp_code, "Message": self.message}


def outcome(params: Mapping[str, Any]) -> str:
    """``paid`` iff both vnp_ResponseCode and vnp_TransactionStatus are ``00``, else ``failed``."""
    ok = params.get("vnp_ResponseCode") == "00" and params.get("vnp_TransactionStatus") == "00"
    return "paid" if ok else "failed"


def handle_ipn(params: Mapping[str, Any], config: VnpayConfig, orders: OrderStore) -> IpnReply:
    """Check and record a VNPay IPN; codes in VNPay's order: 97, 01, 04, 02, 00 (99 on any exception)."""
    try:
        data = _plain(params)
        if not verify_signature(data, config.hash_secret):
            return IpnReply("97", "Invalid signature")
        order = orders.get(data.get("vnp_TxnRef", ""))
        if order is None:
            return IpnReply("01", "Order not found")
        if data.get("vnp_Amount") != str(order.amount_vnd * 100):
            return IpnReply("04", "Invalid amount", order=order)
        if order.status != "pending":
            return IpnReply("02", "Order already confirmed", order=order)
        status = outcome(data)
        if not orders.settle(order.txn_ref, status, data.get("vnp_TransactionNo") or None,
                             parse_date(data.get("vnp_PayDate")), data):  # a concurrent replay won
            return IpnReply("02", "Order already confirmed", order=orders.get(order.txn_ref))
        log.info("VNPay IPN settled %s as %s", order.txn_ref, status, extra={"action": "vnpay_ipn"})
        return IpnReply("00", "Confirm Success", True, orders.get(order.txn_ref))
    except Exception:
        log.exception("VNPay IPN failed", extra={"action": "vnpay_ipn"})
        return IpnReply("99", "Unknown error")


@dataclass(frozen=True)
class ReturnResult:
    """What the citizen's page may show after the gateway sends the browser back."""

    valid: bool  # the signature holds; if not, show nothing of the content
    success: bool
    txn_ref: str
    amount_vnd: int | None
    response_code: str
    message: str


def verify_return(params: Mapping[str, Any], config: VnpayConfig) -> ReturnResult:
    """Check the return URL's parameters; this never settles the order (only the IPN does)."""
    data = _plain(params)
    if not verify_signature(data, config.hash_secret):
        return ReturnResult(False, False, "", None, "97", "Chữ ký không hợp lệ")
    code, amount = data.get("vnp_ResponseCode", ""), data.get("vnp_Amount", "")
    success = outcome(data) == "paid"
    if success or code != "00":
        message = RESULT_MESSAGES.get(code, f"Giao dịch không thành công (mã {code})")
    else:
        message = "Giao dịch không thành công"  # the bank answered 00 but the transaction did not go through
    return ReturnResult(True, success, data.get("vnp_TxnRef", ""),
                        int(amount) // 100 if amount.isdigit() else None, code, message)


@dataclass(frozen=True)
class QueryResult:
    """A QueryDR answer; ``transaction_status`` 00 paid, 01 unfinished, 02 error, 04 reversed, … ."""

    response_code: str  # 00 found, 91 not found, 94 duplicate request, 97 bad checksum, 99 other
    transaction_status: str
    amount_vnd: int | None
    transaction_no: str | None
    pay_date: datetime | None
    verified: bool
    raw: dict[str, str]


def querydr_body(config: VnpayConfig, txn_ref: str, transaction_date: datetime, ip_addr: str, now: datetime,
                 order_info: str | None = None, request_id: str | None = None) -> dict[str, str]:
    """The signed QueryDR request; ``transaction_date`` is the payment URL's vnp_CreateDate."""
    body = {"vnp_RequestId": request_id or uuid.uuid4().hex, "vnp_Version": VERSION, "vnp_Command": "querydr",
            "vnp_TmnCode": config.tmn_code, "vnp_TxnRef": txn_ref,
            "vnp_TransactionDate": format_date(transaction_date), "vnp_CreateDate": format_date(now),
            "vnp_IpAddr": ip_addr, "vnp_OrderInfo": order_info or f"Truy van giao dich {txn_ref}"}
    body["vnp_SecureHash"] = sign_pipe(body, QUERYDR_REQUEST_FIELDS, config.hash_secret)
    return body


def verify_querydr_response(data: Mapping[str, Any], secret: str) -> bool:
    """Whether the QueryDR response's vnp_SecureHash signs its fields in VNPay's order."""
    received = data.get("vnp_SecureHash")
    return bool(received) and same_digest(sign_pipe(data, QUERYDR_RESPONSE_FIELDS, secret), received)


def query_transaction(config: VnpayConfig, txn_ref: str, transaction_date: datetime, *, ip_addr: str = "127.0.0.1",
                      now: datetime | None = None, timeout: float = 10.0) -> QueryResult:
    """POST a QueryDR to ``config.api_url``; raise :class:`InvalidSignature` on a forged answer."""
    if urlsplit(config.api_url).scheme not in ("http", "https"):
        raise VnpayError(f"the VNPay API URL must be http(s): {config.api_url!r}")
    body = querydr_body(config, txn_ref, transaction_date, ip_addr, now or datetime.now(timezone.utc))
    request = urllib.request.Request(config.api_url, json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
        data = _plain(json.loads(response.read().decode("utf-8")))
    verified = verify_querydr_response(data, config.hash_secret)
    if data.get("vnp_SecureHash") and not verified:
        raise InvalidSignature(f"QueryDR answer for {txn_ref} has a bad signature")
    amount = data.get("vnp_Amount", "")
    return QueryResult(data.get("vnp_ResponseCode", ""), data.get("vnp_TransactionStatus", ""),
                       int(amount) // 100 if amount.isdigit() else None, data.get("vnp_TransactionNo") or None,
                       parse_date(data.get("vnp_PayDate")), verified, data)


def reconcile(orders_pending: Iterable[Order], config: VnpayConfig, store: OrderStore, now: datetime, *,
              min_age: timedelta = timedelta(minutes=15), fail_unpaid_after: timedelta | None = None,
              query: Callable[..., QueryResult] = query_transaction, **query_options: Any) -> list[Order]:
    """Ask QueryDR about pending orders older than ``min_age`` and settle those VNPay has decided
    (transaction status 00 paid; 02, 04 failed); return the orders this call settled (the caller
    correlates them). Orders VNPay does not know (91) or that are unfinished (01), older than
    ``fail_unpaid_after`` (set it past the URL's expiry), are settled failed; the rest stay pending."""
    settled: list[Order] = []
    for order in orders_pending:
        if order.status != "pending" or order.created_at is None or now - order.created_at < min_age:
            continue
        try:
            result = query(config, order.txn_ref, order.created_at, **query_options)
        except Exception:
            log.exception("QueryDR failed for %s", order.txn_ref, extra={"action": "vnpay_reconcile"})
            continue
        if not result.verified:
            continue
        overdue = fail_unpaid_after is not None and now - order.created_at >= fail_unpaid_after
        if result.response_code == "00" and result.transaction_status in ("00", "02", "04"):
            if result.amount_vnd != order.amount_vnd or result.raw.get("vnp_TxnRef") != order.txn_ref:
                log.error("QueryDR for %s disagrees on the order: %s", order.txn_ref, result.raw)
                continue
            status = "paid" if result.transaction_status == "00" else "failed"  # 02 error, 04 reversed
        elif overdue and (result.response_code == "91" or result.transaction_status == "01"):
            status = "failed"
        else:
            continue
        if store.settle(order.txn_ref, status, result.transaction_no, result.pay_date, result.raw):
            log.info("reconciled %s as %s", order.txn_ref, status, extra={"action": "vnpay_reconcile"})
            settled.append(store.get(order.txn_ref) or replace(order, status=status))
    return settled
