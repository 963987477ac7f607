"""Topic ``payment-check``: open a fee payment for a dossier and build its signed VNPay payment URL.

The handler does not talk to the gateway: it returns the variables the process keeps while it waits at
its ``payment_received`` message event — ``payment_txn_ref``, ``payment_amount_vnd``,
``payment_created_at`` (the URL's vnp_CreateDate, which the reconciliation job's query needs),
``payment_order_info`` and ``payment_url``. The gateway's callback settles the payment and correlates
the message (see ``webapp/payments.py``).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from workers.errors import BpmnError
from workers.payments import vnpay

TOPIC = "payment-check"
DEFAULT_EXPIRY_MINUTES = 60


def _txn_ref(dossier_code: str, at: dt.datetime) -> str:
    # VNPay wants a reference unique per terminal and day, letters and digits; a retry gets a new one
    return re.sub(r"[^A-Za-z0-9]", "", dossier_code)[:60] + at.strftime("%H%M%S%f")[:10]


def handle(variables: dict[str, Any], config: vnpay.VnpayConfig | None = None,
           now: dt.datetime | None = None) -> dict[str, Any]:
    """The payment variables for the dossier's fee (``fee_vnd``); no fee means nothing to pay."""
    fee = variables.get("fee_vnd")
    if fee in (None, 0):
        return {"payment_required": False}
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise BpmnError("INVALID_FEE", f"Lệ phí không hợp lệ: {fee!r} (cần một số đồng nguyên dương)")
    dossier = str(variables.get("dossier_code") or variables.get("business_key") or "")
    if not dossier:
        raise BpmnError("INVALID_FEE", "Thiếu mã hồ sơ (dossier_code) để lập giao dịch thanh toán")
    at = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    txn_ref = _txn_ref(dossier, at)
    info = f"Thanh toan le phi ho so {dossier}"  # VNPay recommends unaccented text here
    url = vnpay.build_payment_url(config or vnpay.VnpayConfig.from_settings(), txn_ref, fee, info,
                                  str(variables.get("client_ip") or "127.0.0.1"), at,
                                  expire_minutes=int(variables.get("payment_expire_minutes") or DEFAULT_EXPIRY_MINUTES))
    return {"payment_required": True, "payment_txn_ref": txn_ref, "payment_amount_vnd": fee,
            "payment_created_at": at.isoformat(), "payment_order_info": info, "payment_url": url}
