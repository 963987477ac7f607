"""The stand-in VNPay gateway end to end (with a real HTTP IPN receiver), QueryDR and reconciliation."""
from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.workers.vnpay_support import CONFIG, T0, VIETNAMESE, CountingStore, InMemoryOrderStore, hand_signed
from workers.payments import vnpay, vnpay_standin
from workers.payments.vnpay import Order


# --- the stand-in gateway -----------------------------------------------------------------------------

class HiddenFields(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.fields: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs["value"]


@pytest.fixture
def ipn_receiver(store):
    """The merchant's IPN endpoint over real HTTP: handle_ipn over the in-memory store."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            body = json.dumps(vnpay.handle_ipn(params, CONFIG, store).as_json()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/vnpay/ipn"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def gateway(config: vnpay.VnpayConfig, **options):
    app = Flask(__name__)
    blueprint = vnpay_standin.make_blueprint(config, **options)
    app.register_blueprint(blueprint)
    return app, blueprint


def open_payment(client, config, txn_ref, amount_vnd, created, order_info=VIETNAMESE):
    url = urlsplit(vnpay.build_payment_url(config, txn_ref, amount_vnd, order_info, "203.0.113.5", created))
    return client.get(f"{url.path}?{url.query}")


def pay(client, page, action="pay"):
    return client.post("/sandbox-vnpay/paymentv2/vpcpay.html",
                       data={**HiddenFields(page.get_data(as_text=True)).fields, "action": action})


@pytest.mark.parametrize("action, status, code", [("pay", "paid", "00"), ("cancel", "failed", "24")])
def test_standin_end_to_end_with_real_http_ipn(store, ipn_receiver, action, status, code):
    config = replace(CONFIG, ipn_url=ipn_receiver)
    app, blueprint = gateway(config)
    client = app.test_client()
    now = datetime.now(timezone.utc)
    store.add(Order("HS0002", 1_500_000, order_info=VIETNAMESE, created_at=now))
    page = open_payment(client, config, "HS0002", 1_500_000, now)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Cổng thanh toán thử nghiệm — không phải VNPay thật" in text and "1.500.000\u00a0₫" in text
    assert "Thanh toán</button>" in text and "Hủy</button>" in text
    assert "hồ sơ 000.00.01.H12-261127-0001 &amp; 100%" in text

    response = pay(client, page, action)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(config.return_url + "&")
    params = dict(parse_qsl(urlsplit(location).query, keep_blank_values=True))
    result = vnpay.verify_return(params, config)
    assert (result.valid, result.success, result.response_code) == (True, action == "pay", code)
    assert (result.txn_ref, result.amount_vnd, params["vnp_OrderInfo"]) == ("HS0002", 1_500_000, VIETNAMESE)

    order = store.get("HS0002")
    assert order.status == status and order.raw["vnp_ResponseCode"] == code
    assert blueprint.state.ipn_log == [{"txn_ref": "HS0002", "url": ipn_receiver,
                                        "reply": {"RspCode": "00", "Message": "Confirm Success"}}]
    assert pay(client, page).status_code == 400  # the same payment cannot be made twice
    assert open_payment(client, config, "HS0002", 1_500_000, now).status_code == 400


def test_standin_refuses_bad_requests():
    app, _ = gateway(CONFIG)
    client = app.test_client()
    url = urlsplit(vnpay.build_payment_url(CONFIG, "HS0003", 10_000, "x", "::1", datetime.now(timezone.utc)))
    tampered = client.get(f"{url.path}?{url.query.replace('vnp_Amount=1000000', 'vnp_Amount=100')}")
    assert tampered.status_code == 400 and "Sai chữ ký" in tampered.get_data(as_text=True)
    other = replace(CONFIG, tmn_code="OTHER")
    assert open_payment(client, other, "HS0003", 10_000, datetime.now(timezone.utc)).status_code == 400
    expired = open_payment(client, CONFIG, "HS0003", 10_000, datetime.now(timezone.utc) - timedelta(hours=1))
    assert expired.status_code == 400 and "quá thời gian" in expired.get_data(as_text=True)
    forged_post = client.post(url.path, data={**dict(parse_qsl(url.query)), "vnp_Amount": "100", "action": "pay"})
    assert forged_post.status_code == 400


@pytest.fixture
def live_gateway():
    """The stand-in served over real HTTP (QueryDR is a server-to-server POST), IPN switched off."""
    app, blueprint = gateway(CONFIG, skip_ipn=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/sandbox-vnpay"
    config = replace(CONFIG, pay_url=f"{base}/paymentv2/vpcpay.html", api_url=f"{base}/merchant_webapi/api/transaction")
    yield config, app.test_client(), blueprint
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_querydr_against_the_standin(live_gateway):
    config, client, _ = live_gateway
    now = datetime.now(timezone.utc)
    pay(client, open_payment(client, config, "HS0004", 250_000, now))
    found = vnpay.query_transaction(config, "HS0004", now)
    assert (found.response_code, found.transaction_status, found.amount_vnd, found.verified) == (
        "00", "00", 250_000, True)
    assert found.transaction_no and found.pay_date is not None
    assert vnpay.query_transaction(config, "NOPE", now).response_code == "91"
    assert vnpay.query_transaction(config, "HS0004", now - timedelta(seconds=1)).response_code == "91"
    with pytest.raises(vnpay.InvalidSignature):
        vnpay.query_transaction(replace(config, hash_secret="wrong"), "HS0004", now)
    body = vnpay.querydr_body(config, "HS0004", now, "127.0.0.1", now, request_id="same")
    path = urlsplit(config.api_url).path
    assert client.post(path, json=body).get_json()["vnp_ResponseCode"] == "00"
    assert client.post(path, json=body).get_json()["vnp_ResponseCode"] == "94"
    assert client.post(path, json={**body, "vnp_TxnRef": "HS0005"}).get_json()["vnp_ResponseCode"] == "97"


def test_reconcile_settles_an_order_whose_ipn_never_came(live_gateway):
    config, client, blueprint = live_gateway
    store = CountingStore()
    now = datetime.now(timezone.utc)
    paid = store.add(Order("HS0006", 120_000, created_at=now, business_key="000.00.01.H12-261127-0006"))
    unpaid = store.add(Order("HS0007", 80_000, created_at=now))    # page opened, never paid
    store.add(Order("HS0008", 80_000, created_at=now))   # the citizen never reached VNPay
    pay(client, open_payment(client, config, paid.txn_ref, paid.amount_vnd, now))
    open_payment(client, config, unpaid.txn_ref, unpaid.amount_vnd, now)
    assert blueprint.state.ipn_log == [{"txn_ref": "HS0006", "skipped": True}]
    assert store.get("HS0006").status == "pending"

    assert vnpay.reconcile(store.pending(), config, store, now + timedelta(minutes=5)) == []  # too young
    settled = vnpay.reconcile(store.pending(), config, store, now + timedelta(minutes=20))
    assert [(o.txn_ref, o.status, o.business_key) for o in settled] == [
        ("HS0006", "paid", "000.00.01.H12-261127-0006")]
    assert settled[0].bank_txn_no == blueprint.state.transactions["HS0006"]["vnp_TransactionNo"]
    assert vnpay.reconcile(store.pending(), config, store, now + timedelta(minutes=30)) == []
    expired = vnpay.reconcile(store.pending(), config, store, now + timedelta(minutes=30),
                              fail_unpaid_after=timedelta(minutes=25))
    assert sorted((o.txn_ref, o.status) for o in expired) == [("HS0007", "failed"), ("HS0008", "failed")]
    assert store.calls == 3 and store.pending() == []

    # the IPN turning up late, for the reconciled order, changes nothing
    record = blueprint.state.transactions["HS0006"]
    late = vnpay.handle_ipn(hand_signed({k: v for k, v in record.items() if k.startswith("vnp_")}), config, store)
    assert (late.rsp_code, late.settled, store.calls) == ("02", False, 3)


def test_reconcile_survives_a_failing_gateway():
    store = InMemoryOrderStore([Order("HS0010", 1_000, created_at=T0)])

    def unreachable(*args, **kwargs):
        raise OSError("connection refused")

    assert vnpay.reconcile(store.pending(), CONFIG, store, T0 + timedelta(hours=1), query=unreachable) == []
    assert store.get("HS0010").status == "pending"
