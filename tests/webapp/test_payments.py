"""Paying a fee end to end: the payment-check worker, the stand-in gateway, the signed IPN over real HTTP
correlating into the waiting instance, replays, tampering, and reconciliation of a lost callback."""
from __future__ import annotations

import dataclasses
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import select

from engine import db, instances, queries
from engine.models import PaymentOrder
from tests.bpmn_builder import end, external, flow, process, start, user_task
from tests.conftest import LiveServer, deploy_files, free_port
from webapp import payments as web_payments
from webapp.app import create_app
from workers import payment_check, runner
from workers.payments import vnpay

FEE = process("\n".join([
    start()[1], external("make_payment", "payment-check")[1],
    '<bpmn:intermediateCatchEvent id="wait_paid"><bpmn:messageEventDefinition messageRef="msg_paid"/>'
    '</bpmn:intermediateCatchEvent>',
    '<bpmn:exclusiveGateway id="paid_q" default="f_unpaid"/>',
    user_task("review", "mot-cua")[1], end("end_unpaid")[1], end()[1],
    flow("f0", "start", "make_payment"), flow("f1", "make_payment", "wait_paid"), flow("f2", "wait_paid", "paid_q"),
    flow("f3", "paid_q", "review", 'payment_status == "paid"'), flow("f_unpaid", "paid_q", "end_unpaid"),
    flow("f4", "review", "end")]), process_id="fee", extra='<bpmn:message id="msg_paid" name="payment_received"/>')


@pytest.fixture
def site(settings, factory):
    """The app on a live server whose public URL is its own (the stand-in gateway calls its IPN back)."""
    port = free_port()
    settings = dataclasses.replace(settings, public_url=f"http://127.0.0.1:{port}")
    app = create_app(settings, factory)
    server = LiveServer(app, port)
    yield server, settings
    server.stop()


def dossier_waiting_for_payment(factory, settings, operator, code="HS-2026-0001", fee=150_000):
    deploy_files(factory, [("fee.bpmn", FEE)])
    with db.transaction(factory) as s:
        iid = instances.start(s, operator, "fee", {"dossier_code": code, "fee_vnd": fee}, code).row.id
    config = vnpay.VnpayConfig.from_settings(settings)
    (outcome,) = runner.run_once(factory, "pay-worker", {"payment-check": lambda v: payment_check.handle(v, config)})
    assert outcome.result == "completed"
    with db.transaction(factory) as s:
        return iid, queries.instance(s, iid, with_variables=True)["variables"]


def pay_in_browser(server, payment_url, action="pay"):
    """What the citizen's browser does: open the gateway page, press the button, follow the redirect."""
    with urllib.request.urlopen(payment_url, timeout=30) as page:
        assert "không phải VNPay thật" in page.read().decode()
    parts = urllib.parse.urlsplit(payment_url)
    form = dict(urllib.parse.parse_qsl(parts.query), action=action)
    request = urllib.request.Request(f"{server.url}{parts.path}", data=urllib.parse.urlencode(form).encode())
    with urllib.request.urlopen(request, timeout=30) as back:  # follows the redirect to the return page
        return back.geturl(), back.read().decode()


def test_a_paid_fee_reaches_the_waiting_instance_once(site, factory, operator):
    server, settings = site
    iid, variables = dossier_waiting_for_payment(factory, settings, operator)
    assert variables["payment_amount_vnd"] == 150_000 and variables["payment_url"].startswith(server.url)
    return_url, page = pay_in_browser(server, variables["payment_url"])
    assert "/payments/vnpay/return" in return_url and "Kết quả thanh toán" in page
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
        ledger = s.scalars(select(PaymentOrder)).one()
    assert detail["variables"]["payment_status"] == "paid" and detail["variables"]["payment_bank_txn_no"]
    assert [t["taskDefinitionKey"] for t in detail["userTasks"]] == ["review"]
    assert (ledger.txn_ref, ledger.status, ledger.amount_vnd) == (variables["payment_txn_ref"], "paid", 150_000)
    # VNPay retries its callback: the replay answers 02 and changes nothing
    replay = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(return_url).query))
    with urllib.request.urlopen(f"{server.url}/payments/vnpay/ipn?{urllib.parse.urlencode(replay)}") as r:
        assert r.read() == b'{"RspCode":"02","Message":"Order already confirmed"}\n'
    with db.transaction(factory) as s:
        assert len(queries.instance_detail(s, iid)["history"]) == len(detail["history"])


def test_a_cancelled_payment_ends_the_unpaid_way(site, factory, operator):
    server, settings = site
    iid, variables = dossier_waiting_for_payment(factory, settings, operator)
    pay_in_browser(server, variables["payment_url"], action="cancel")
    with db.transaction(factory) as s:
        detail = queries.instance_detail(s, iid)
    assert detail["status"] == "completed" and detail["variables"]["payment_status"] == "failed"


def test_the_return_page_is_a_portal_page_that_leads_back_to_the_dossier(site, factory, operator):
    server, settings = site
    _, variables = dossier_waiting_for_payment(factory, settings, operator)
    _, paid = pay_in_browser(server, variables["payment_url"])
    _, cancelled = pay_in_browser(server, dossier_waiting_for_payment(factory, settings, operator,
                                                                      code="HS-2026-0002")[1]["payment_url"],
                                  action="cancel")
    for page, code in ((paid, "HS-2026-0001"), (cancelled, "HS-2026-0002")):
        assert "portal.css" in page and "Cổng dịch vụ công" in page  # the portal's layout
        assert f'href="/ho-so/{code}"' in page and 'href="/ho-so-cua-toi"' in page
    assert "<h1 class=\"heading-xl\">Đã thanh toán</h1>" in paid and "Giao dịch thành công" in paid
    assert "Thanh toán chưa thành công" in cancelled and "Khách hàng đã hủy giao dịch" in cancelled


def test_tampered_and_forged_callbacks_are_refused_and_change_nothing(site, factory, operator):
    server, settings = site
    iid, variables = dossier_waiting_for_payment(factory, settings, operator)
    genuine = {"vnp_Amount": str(150_000 * 100), "vnp_BankCode": "NCB", "vnp_ResponseCode": "00",
               "vnp_TmnCode": settings.vnpay_tmn_code, "vnp_TransactionNo": "1", "vnp_TransactionStatus": "00",
               "vnp_TxnRef": variables["payment_txn_ref"], "vnp_PayDate": "20261127090000",
               "vnp_OrderInfo": variables["payment_order_info"]}
    tampered = dict(urllib.parse.parse_qsl(vnpay.signed_query(genuine, settings.vnpay_hash_secret)))
    tampered["vnp_Amount"] = "100"
    forged = dict(urllib.parse.parse_qsl(vnpay.signed_query(genuine, "a-guessed-secret")))
    wrong_amount = dict(urllib.parse.parse_qsl(vnpay.signed_query({**genuine, "vnp_Amount": "100"},
                                                                  settings.vnpay_hash_secret)))
    for params, code in ((tampered, "97"), (forged, "97"), (wrong_amount, "04")):
        with urllib.request.urlopen(f"{server.url}/payments/vnpay/ipn?{urllib.parse.urlencode(params)}") as r:
            assert f'"RspCode":"{code}"' in r.read().decode()
    with db.transaction(factory) as s:
        assert queries.instance(s, iid, True)["variables"].get("payment_status") is None
        assert s.scalars(select(PaymentOrder)).all() == []


def test_reconciliation_settles_a_payment_whose_callback_never_came(site, factory, operator):
    import datetime as dt
    server, settings = site
    iid, variables = dossier_waiting_for_payment(factory, settings, operator)
    gateway = next(bp for name, bp in server.server.app.blueprints.items() if name == "sandbox_vnpay")
    gateway.state.skip_ipn = True  # the callback is lost on the way
    pay_in_browser(server, variables["payment_url"])
    with db.transaction(factory) as s:
        assert "payment_status" not in queries.instance(s, iid, True)["variables"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=20)
    assert web_payments.reconcile(factory, settings, now=later) == [variables["payment_txn_ref"]]
    assert web_payments.reconcile(factory, settings, now=later) == []  # nothing left to settle
    with db.transaction(factory) as s:
        assert queries.instance(s, iid, True)["variables"]["payment_status"] == "paid"


def test_without_a_gateway_or_the_stand_in_switched_on_no_payment_is_taken(settings, factory, operator):
    """The stand-in's secret is public: without the opt-in, an IPN signed with it settles nothing."""
    from engine.config import STANDIN_HASH_SECRET, STANDIN_TMN_CODE
    from engine.errors import ServiceUnavailable
    iid, variables = dossier_waiting_for_payment(factory, settings, operator)  # opened while the stand-in was on
    off = dataclasses.replace(settings, vnpay_standin=False, vnpay_tmn_code="", vnpay_hash_secret="")
    client = create_app(off, factory).test_client()
    forged = {"vnp_Amount": str(150_000 * 100), "vnp_BankCode": "NCB", "vnp_ResponseCode": "00",
              "vnp_TmnCode": STANDIN_TMN_CODE, "vnp_TransactionNo": "1", "vnp_TransactionStatus": "00",
              "vnp_TxnRef": variables["payment_txn_ref"], "vnp_PayDate": "20261127090000",
              "vnp_OrderInfo": variables["payment_order_info"]}
    reply = client.get("/payments/vnpay/ipn?" + vnpay.signed_query(forged, STANDIN_HASH_SECRET))
    assert reply.status_code == 503 and reply.get_json()["RspCode"] == "99"
    page = client.get("/payments/vnpay/return?" + vnpay.signed_query(forged, STANDIN_HASH_SECRET))
    assert page.status_code == 503 and "Chưa cấu hình cổng thanh toán" in page.get_data(as_text=True)
    assert client.get("/sandbox-vnpay/paymentv2/vpcpay.html").status_code == 404
    with pytest.raises(ServiceUnavailable):
        web_payments.reconcile(factory, off)
    with db.transaction(factory) as s:
        assert "payment_status" not in queries.instance(s, iid, True)["variables"]
        assert s.scalars(select(PaymentOrder)).all() == []
