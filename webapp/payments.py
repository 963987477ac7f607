"""Payments on the web: the gateway's IPN callback, the citizen's return page, and reconciliation.

The IPN is public (VNPay calls it server to server) and trusts nothing but the HMAC signature. A payment
the callback settles is delivered to its instance (message ``payment_received``) in the same transaction,
so a crash between the two loses nothing: VNPay retries an IPN that did not answer ``00``. When motcua has
no terminal of its own and ``MOTCUA_VNPAY_STANDIN=1``, the stand-in gateway (clearly labelled) is mounted at
``/sandbox-vnpay``; with neither, every payment route refuses (503) and nothing is signed with a public secret.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, url_for

from engine import db, payments
from engine.errors import MotcuaError, ServiceUnavailable
from engine.runtime import Actor
from webapp import database
from workers.payments import vnpay, vnpay_standin

log = logging.getLogger(__name__)
blueprint = Blueprint("payments", __name__, url_prefix="/payments/vnpay")
GATEWAY = Actor("vnpay", operator=True)

RETURN_PAGE = "portal/payment_return.html"  # in the portal's layout: the citizen is on the portal


class LedgerStore:
    """VNPay's order store over the engine's payments (pending = an instance waits; settled = the ledger)."""

    def __init__(self, session):
        self.session = session

    def get(self, txn_ref: str) -> vnpay.Order | None:
        """The payment as a VNPay order."""
        found = payments.find(self.session, txn_ref)
        if found is None:
            return None
        return vnpay.Order(found.txn_ref, found.amount_vnd, found.status, found.business_key, found.order_info,
                           found.created_at, found.instance_id, found.message_name, found.bank_txn_no, found.paid_at)

    def settle(self, txn_ref, status, bank_txn_no, pay_date, raw) -> bool:
        """Record the verdict once and deliver it to the waiting instance."""
        found = payments.find(self.session, txn_ref)
        if found is None or found.status != "pending":
            return False
        if not payments.settle(self.session, found, status, bank_txn_no, pay_date, dict(raw)):
            return False
        payments.correlate(self.session, replace(found, status=status, bank_txn_no=bank_txn_no, paid_at=pay_date),
                           GATEWAY)
        return True


def config() -> vnpay.VnpayConfig:
    """The gateway configuration."""
    return vnpay.VnpayConfig.from_settings(database.state().settings)


@blueprint.before_request
def refuse_without_gateway():
    """Without a real gateway or the switched-on stand-in, no payment route answers (503)."""
    if database.state().settings.payments_available:
        return None
    if request.endpoint == "payments.ipn":
        return jsonify({"RspCode": "99", "Message": "Payments are not configured"}), 503
    return render_template(RETURN_PAGE, title="Chưa thể thanh toán trực tuyến", paid=False, code=None,
                           message=vnpay.UNAVAILABLE_MESSAGE, txn_ref=None), 503


@blueprint.get("/ipn")
def ipn():
    """VNPay's server-to-server callback; answers VNPay's RspCode JSON (HTTP 200 once payments are configured)."""
    session = database.session()
    reply = vnpay.handle_ipn(request.args, config(), LedgerStore(session))
    if reply.rsp_code == "00":
        database.commit()
    return jsonify(reply.as_json())


@blueprint.get("/return")
def return_page():
    """Where the citizen's browser comes back: shows the result; only the IPN settles a payment."""
    result = vnpay.verify_return(request.args, config())
    if not result.valid:
        return render_template(RETURN_PAGE, title="Không xác thực được kết quả thanh toán", paid=False, code=None,
                               message="Chữ ký của kết quả thanh toán không hợp lệ.", txn_ref=None), 400
    order = LedgerStore(database.session()).get(result.txn_ref)
    if order is not None and order.status == "pending" and result.success:
        message = "Cổng thanh toán báo đã thanh toán; hệ thống đang xác nhận giao dịch."
    else:
        message = result.message
    paid = result.success and order is not None and order.status in ("pending", "paid")
    return render_template(RETURN_PAGE, title="Đã thanh toán" if paid else "Thanh toán chưa thành công", paid=paid,
                           message=message, txn_ref=result.txn_ref, code=order.business_key if order else None)


@blueprint.get("/pay/<txn_ref>")
def pay(txn_ref: str):
    """Send the citizen to the gateway for a payment that is still pending."""
    found = payments.find(database.session(), txn_ref)
    if found is None or found.status != "pending" or found.instance_id is None:
        abort(404)
    from engine import queries
    url = queries.instance(database.session(), found.instance_id, with_variables=True)["variables"].get("payment_url")
    if not url:
        abort(404)
    return redirect(url)


def reconcile(factory, settings, now: dt.datetime | None = None, min_age=dt.timedelta(minutes=15),
              fail_unpaid_after=dt.timedelta(hours=2)) -> list[str]:
    """Ask the gateway about payments whose callback never came; settle and deliver what it decided.
    Each payment is settled in a transaction of its own. Returns the settled references."""
    if not settings.payments_available:
        raise ServiceUnavailable(vnpay.UNAVAILABLE_MESSAGE)
    now = now or dt.datetime.now(dt.timezone.utc)
    cfg = vnpay.VnpayConfig.from_settings(settings)
    with db.transaction(factory) as session:
        waiting = [LedgerStore(session).get(p.txn_ref) for p in payments.pending(session, now - min_age)]
    done = []
    for order in waiting:
        try:
            with db.transaction(factory) as session:
                settled = vnpay.reconcile([order], cfg, LedgerStore(session), now, min_age=min_age,
                                          fail_unpaid_after=fail_unpaid_after)
            done.extend(o.txn_ref for o in settled)
        except MotcuaError as err:
            log.warning("reconciling %s: %s", order.txn_ref, err.message)
    return done


def init_app(app: Flask) -> None:
    """Mount the payment routes, and the stand-in gateway when it is switched on and no real one is configured."""
    app.register_blueprint(blueprint)
    settings = app.extensions["motcua"].settings
    if settings.payment_standin:
        cfg = vnpay.VnpayConfig.from_settings(settings)
        app.register_blueprint(vnpay_standin.make_blueprint(
            cfg, ipn_url_for=lambda: url_for("payments.ipn", _external=True)))
