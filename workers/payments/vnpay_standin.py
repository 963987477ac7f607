"""STAND-IN for the VNPay sandbox gateway — NOT VNPay.

sandbox.vnpayment.vn cannot be reached from here, so the demo and the tests pay through this imitation,
mounted at ``/sandbox-vnpay``: it checks the merchant's signed payment URL like VNPay, shows a page with
"Thanh toán" and "Hủy", calls the merchant's IPN URL server to server (real HTTP), sends the browser back
to ``vnp_ReturnUrl`` with signed results, and answers QueryDR for the transactions it handled. No money
moves. State lives in memory, in this blueprint, and is lost on restart. Never mount it in production.
"""
from __future__ import annotations

import itertools
import json
import logging
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, jsonify, redirect, render_template_string, request
from flask.typing import ResponseReturnValue

from workers.payments import vnpay

log = logging.getLogger(__name__)

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Cổng thanh toán thử nghiệm</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 2rem auto">
<p style="background: #fff3cd; border: 3px solid #b58100; padding: .75rem">
  <strong>Cổng thanh toán thử nghiệm — không phải VNPay thật.</strong> Không có khoản tiền thật nào được chuyển.</p>
{% if error %}
<h1>Không thể thực hiện giao dịch</h1>
<p role="alert">{{ error }}</p>
{% else %}
<h1>Thanh toán trực tuyến</h1>
<dl>
  <dt>Số tiền</dt><dd><strong>{{ amount }}</strong></dd>
  <dt>Nội dung thanh toán</dt><dd>{{ order_info }}</dd>
  <dt>Mã giao dịch</dt><dd>{{ txn_ref }}</dd>
  <dt>Ngân hàng</dt><dd>NCB (thử nghiệm)</dd>
</dl>
<form method="post" action="{{ action }}">
  {% for name, value in fields %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}<button type="submit" name="action" value="pay">Thanh toán</button>
  <button type="submit" name="action" value="cancel">Hủy</button>
</form>
{% endif %}
</body></html>"""
REQUIRED = ("vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef",
            "vnp_OrderInfo", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate", "vnp_SecureHash")


@dataclass
class StandinState:
    """What the stand-in remembers; set ``skip_ipn`` to imitate an IPN that never arrives."""

    skip_ipn: bool = False
    transactions: dict[str, dict[str, str]] = field(default_factory=dict)  # by vnp_TxnRef
    ipn_log: list[dict[str, Any]] = field(default_factory=list)  # every IPN call and the merchant's reply
    request_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(14_000_001))


class StandinBlueprint(Blueprint):
    """The stand-in's blueprint, with its :class:`StandinState` as ``state``."""

    state: StandinState


def format_vnd(amount: int) -> str:
    """``1.500.000 ₫`` (dots for thousands, a no-break space before the sign)."""
    return f"{amount:,}".replace(",", ".") + "\u00a0₫"


def _problem(params: dict[str, str], config: vnpay.VnpayConfig, now: datetime) -> str | None:
    """Why VNPay would refuse this payment request, in Vietnamese; None if it is acceptable."""
    if not vnpay.verify_signature(params, config.hash_secret):
        return "Sai chữ ký (vnp_SecureHash): yêu cầu thanh toán không hợp lệ."
    missing = [name for name in REQUIRED if not params.get(name)]
    if missing:
        return "Thiếu tham số: " + ", ".join(missing)
    if params["vnp_TmnCode"] != config.tmn_code:
        return "Mã website (vnp_TmnCode) không đúng."
    if (params["vnp_Version"], params["vnp_Command"], params["vnp_CurrCode"]) != (vnpay.VERSION, "pay", "VND"):
        return "Phiên bản, lệnh hoặc loại tiền không được hỗ trợ."
    amount = params["vnp_Amount"]
    if not amount.isdigit() or int(amount) <= 0 or int(amount) % 100:
        return "Số tiền (vnp_Amount) không hợp lệ."
    expires = vnpay.parse_date(params.get("vnp_ExpireDate"))
    if expires is not None and expires < now:
        return "Giao dịch đã quá thời gian chờ thanh toán."
    return None


def make_blueprint(config: vnpay.VnpayConfig, ipn_url_for: Callable[[], str | None] | str | None = None, *,
                   skip_ipn: bool = False, ipn_timeout: float = 10.0) -> StandinBlueprint:
    """The stand-in gateway, to mount at ``/sandbox-vnpay``. ``ipn_url_for`` (a URL, or a function called
    in the payment request, e.g. ``lambda: url_for("payments.vnpay_ipn", _external=True)``) names the
    merchant's IPN endpoint; by default ``config.ipn_url``. The server must be threaded: the IPN call is
    made while the browser's request waits."""
    bp = StandinBlueprint("sandbox_vnpay", __name__, url_prefix="/sandbox-vnpay")
    state = bp.state = StandinState(skip_ipn=skip_ipn)

    def page(error: str | None = None, **values: Any) -> str:
        return render_template_string(PAGE, error=error, **values)

    def ipn_url() -> str | None:
        return ipn_url_for() if callable(ipn_url_for) else (ipn_url_for or config.ipn_url)

    def call_ipn(txn_ref: str, result: dict[str, str]) -> None:
        url = ipn_url()
        if state.skip_ipn or not url:
            entry: dict[str, Any] = {"txn_ref": txn_ref, "skipped": True}
        else:
            entry = {"txn_ref": txn_ref, "url": url}
            try:
                with urllib.request.urlopen(vnpay.join_url(url, vnpay.signed_query(result, config.hash_secret)),
                                            timeout=ipn_timeout) as response:  # noqa: S310 (merchant's URL)
                    entry["reply"] = json.loads(response.read().decode("utf-8"))
            except (OSError, ValueError) as err:  # URLError and timeouts are OSErrors
                entry["error"] = str(err)
                log.warning("stand-in VNPay: IPN to %s failed: %s", url, err)
        with state.lock:
            state.ipn_log.append(entry)

    @bp.get("/paymentv2/vpcpay.html")
    def pay_page() -> ResponseReturnValue:
        """Check the signed request and show the payment page."""
        params = request.args.to_dict()
        problem = _problem(params, config, datetime.now(timezone.utc))
        if problem is None:
            with state.lock:
                known = state.transactions.setdefault(params["vnp_TxnRef"], {
                    "vnp_TxnRef": params["vnp_TxnRef"], "vnp_Amount": params["vnp_Amount"],
                    "vnp_OrderInfo": params["vnp_OrderInfo"], "vnp_TransactionStatus": "01",
                    "create_date": params["vnp_CreateDate"]})
            if known["vnp_TransactionStatus"] != "01" or known["create_date"] != params["vnp_CreateDate"]:
                problem = "Mã giao dịch (vnp_TxnRef) đã được sử dụng."
        if problem is not None:
            return page(problem), 400
        return page(amount=format_vnd(int(params["vnp_Amount"]) // 100), order_info=params["vnp_OrderInfo"],
                    txn_ref=params["vnp_TxnRef"], action=request.path, fields=sorted(params.items()))

    @bp.post("/paymentv2/vpcpay.html")
    def pay() -> ResponseReturnValue:
        """Pay or cancel, tell the merchant by IPN, and send the browser back to the merchant."""
        params = request.form.to_dict()
        paid = params.pop("action", "") == "pay"
        now = datetime.now(timezone.utc)
        problem = _problem(params, config, now)
        txn_ref = params.get("vnp_TxnRef", "")
        with state.lock:
            known = state.transactions.get(txn_ref)
            if problem is None and (known is None or known["vnp_TransactionStatus"] != "01"):
                problem = "Giao dịch không tồn tại hoặc đã được xử lý."
            if problem is not None:
                return page(problem), 400
            number = str(next(state.numbers)) if paid else "0"
            result = {"vnp_Amount": params["vnp_Amount"], "vnp_BankCode": "NCB",
                      "vnp_OrderInfo": params["vnp_OrderInfo"], "vnp_PayDate": vnpay.format_date(now),
                      "vnp_ResponseCode": "00" if paid else "24", "vnp_TmnCode": config.tmn_code,
                      "vnp_TransactionNo": number, "vnp_TransactionStatus": "00" if paid else "02",
                      "vnp_TxnRef": txn_ref}
            if paid:
                result.update(vnp_BankTranNo=f"VNP{number}", vnp_CardType="ATM")
            state.transactions[txn_ref] = {**result, "create_date": params["vnp_CreateDate"]}
        call_ipn(txn_ref, result)
        return redirect(vnpay.join_url(params["vnp_ReturnUrl"], vnpay.signed_query(result, config.hash_secret)))

    @bp.post("/merchant_webapi/api/transaction")
    def api() -> ResponseReturnValue:
        """Answer QueryDR (the only command imitated), signed like VNPay's answers."""
        body = request.get_json(silent=True)
        data = {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
        answer = {"vnp_ResponseId": uuid.uuid4().hex, "vnp_Command": data.get("vnp_Command", ""),
                  "vnp_TmnCode": data.get("vnp_TmnCode", ""), "vnp_TxnRef": data.get("vnp_TxnRef", "")}
        with state.lock:
            known = state.transactions.get(answer["vnp_TxnRef"])
            if data.get("vnp_Command") != "querydr" or not data.get("vnp_RequestId"):
                code, message = "03", "Invalid request format"
            elif not vnpay.same_digest(vnpay.sign_pipe(data, vnpay.QUERYDR_REQUEST_FIELDS, config.hash_secret),
                                       data.get("vnp_SecureHash")):
                code, message = "97", "Invalid checksum"
            elif data["vnp_TmnCode"] != config.tmn_code:
                code, message = "02", "Merchant is not valid"
            elif data["vnp_RequestId"] in state.request_ids:
                code, message = "94", "Duplicate request"
            elif known is None or known["create_date"] != data.get("vnp_TransactionDate"):
                code, message = "91", "Transaction not found"
            else:
                code, message = "00", "QueryDR Success"
                answer.update({k: v for k, v in known.items() if k.startswith("vnp_")}, vnp_TransactionType="01")
            state.request_ids.add(data.get("vnp_RequestId", ""))
        answer.update(vnp_ResponseCode=code, vnp_Message=message)
        answer["vnp_SecureHash"] = vnpay.sign_pipe(answer, vnpay.QUERYDR_RESPONSE_FIELDS, config.hash_secret)
        return jsonify(answer)

    return bp
