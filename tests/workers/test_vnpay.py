"""VNPay 2.1.0: signing, IPN reply codes and their order, idempotent settlement, the stand-in gateway
end to end (with a real HTTP IPN receiver), QueryDR and reconciliation."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote_plus, urlsplit

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server

from workers.payments import vnpay, vnpay_standin
from workers.payments.vnpay import InMemoryOrderStore, Order

SECRET = "TESTSECRETKEY0123456789ABCDEFGHI"
CONFIG = vnpay.VnpayConfig("MOTCUA01", SECRET, "http://localhost/sandbox-vnpay/paymentv2/vpcpay.html",
                           "http://merchant.test/thanh-toan/ket-qua?nguon=vnpay")
T0 = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)  # 09:30 in Hà Nội
VIETNAMESE = "Lệ phí cấp bản sao trích lục hộ tịch — hồ sơ 000.00.01.H12-261127-0001 & 100% + 5=5 / đủ"


def by_hand(data: str, secret: str = SECRET) -> str:
    """The documented algorithm, independent of the code under test."""
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def hand_signed(params: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(params.items()))
    return {**params, "vnp_SecureHash": by_hand(query, secret)}


def ipn(txn_ref: str = "HS0001", amount_vnd: int = 150_000, response: str = "00", status: str = "00",
        secret: str = SECRET) -> dict[str, str]:
    return hand_signed({"vnp_Amount": str(amount_vnd * 100), "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP1",
                        "vnp_CardType": "ATM", "vnp_OrderInfo": "Le phi ho tich", "vnp_PayDate": "20261127093512",
                        "vnp_ResponseCode": response, "vnp_TmnCode": "MOTCUA01", "vnp_TransactionNo": "14000123",
                        "vnp_TransactionStatus": status, "vnp_TxnRef": txn_ref}, secret)


@pytest.fixture
def store() -> InMemoryOrderStore:
    return InMemoryOrderStore([Order("HS0001", 150_000, created_at=T0), Order("HS0009", 50_000, status="paid")])


class CountingStore(InMemoryOrderStore):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def settle(self, *args, **kwargs):
        self.calls += 1
        return super().settle(*args, **kwargs)


# --- signing ------------------------------------------------------------------------------------------

def test_signature_known_vector():
    params = {"vnp_TxnRef": "HS-0001", "vnp_Amount": "15000000", "vnp_OrderInfo": "Lệ phí: hộ tịch 2/2026",
              "vnp_CreateDate": "20261127093000", "vnp_SecureHashType": "HmacSHA512", "ignored": "x y"}
    data = ("vnp_Amount=15000000&vnp_CreateDate=20261127093000"
            "&vnp_OrderInfo=L%E1%BB%87+ph%C3%AD%3A+h%E1%BB%99+t%E1%BB%8Bch+2%2F2026&vnp_TxnRef=HS-0001")
    expected = by_hand(data)
    assert vnpay.encode(params) == data
    assert vnpay.sign(params, SECRET) == expected
    assert vnpay.verify_signature({**params, "vnp_SecureHash": expected.upper()}, SECRET)
    assert not vnpay.verify_signature({**params, "vnp_SecureHash": expected, "vnp_Amount": "15000001"}, SECRET)
    assert not vnpay.verify_signature({**params, "vnp_SecureHash": by_hand(data, "other")}, SECRET)
    assert not vnpay.verify_signature(params, SECRET)
    assert not vnpay.verify_signature({**params, "vnp_SecureHash": "đ" * 128}, SECRET)


def test_payment_url_fields_dates_and_hash():
    url = vnpay.build_payment_url(CONFIG, "HS0001", 150_000, "Le phi ho tich", "203.0.113.5", T0)
    base, _, query = url.partition("?")
    assert base == CONFIG.pay_url
    signed, _, digest = query.rpartition("&vnp_SecureHash=")
    assert digest == by_hand(signed)
    keys = [pair.partition("=")[0] for pair in signed.split("&")]
    assert keys == sorted(keys)
    assert dict(parse_qsl(signed)) == {
        "vnp_Version": "2.1.0", "vnp_Command": "pay", "vnp_TmnCode": "MOTCUA01", "vnp_Amount": "15000000",
        "vnp_CurrCode": "VND", "vnp_TxnRef": "HS0001", "vnp_OrderInfo": "Le phi ho tich", "vnp_OrderType": "other",
        "vnp_Locale": "vn", "vnp_ReturnUrl": CONFIG.return_url, "vnp_IpAddr": "203.0.113.5",
        "vnp_CreateDate": "20261127093000", "vnp_ExpireDate": "20261127094500"}
    naive = vnpay.build_payment_url(CONFIG, "HS0001", 150_000, "x", "::1", T0.replace(tzinfo=None), bank_code="NCB")
    assert "vnp_CreateDate=20261127093000" in naive and "vnp_BankCode=NCB" in naive
    for amount in (0, -5, 1.5, True):
        with pytest.raises(ValueError):
            vnpay.build_payment_url(CONFIG, "HS0001", amount, "x", "::1", T0)


def test_unicode_order_info_survives_encoding():
    url = vnpay.build_payment_url(CONFIG, "HS0001", 150_000, VIETNAMESE, "203.0.113.5", T0)
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params["vnp_OrderInfo"] == VIETNAMESE
    assert vnpay.verify_signature(params, SECRET)


def test_config_from_env():
    env = {"MOTCUA_VNPAY_TMN_CODE": "T1", "MOTCUA_VNPAY_HASH_SECRET": "s3cr3t-value",
           "MOTCUA_VNPAY_URL": "https://pay.example/vpcpay.html", "MOTCUA_PUBLIC_URL": "https://dvc.example",
           "MOTCUA_VNPAY_API_URL": "https://api"}
    config = vnpay.VnpayConfig.from_env(env)
    assert (config.tmn_code, config.hash_secret, config.pay_url, config.return_url, config.ipn_url,
            config.api_url) == ("T1", "s3cr3t-value", "https://pay.example/vpcpay.html",
                                "https://dvc.example/payments/vnpay/return", "https://dvc.example/payments/vnpay/ipn",
                                "https://api")
    assert "s3cr3t-value" not in repr(config)
    with pytest.raises(vnpay.VnpayError, match="MOTCUA_VNPAY_HASH_SECRET"):
        vnpay.VnpayConfig.from_env({"MOTCUA_VNPAY_TMN_CODE": "T1", "MOTCUA_VNPAY_URL": "https://pay.example"})
    standin = vnpay.VnpayConfig.from_env({})
    assert standin.pay_url == "http://localhost:5000/sandbox-vnpay/paymentv2/vpcpay.html"


# --- IPN --------------------------------------------------------------------------------------------

def test_ipn_success_records_the_payment(store):
    reply = vnpay.handle_ipn(MultiDict(ipn()), CONFIG, store)  # as Flask's request.args gives it
    assert reply.as_json() == {"RspCode": "00", "Message": "Confirm Success"}
    assert reply.settled and reply.order == store.get("HS0001")
    order = store.get("HS0001")
    assert (order.status, order.bank_txn_no) == ("paid", "14000123")
    assert order.paid_at == datetime(2026, 11, 27, 2, 35, 12, tzinfo=timezone.utc)
    assert order.raw["vnp_BankTranNo"] == "VNP1"


@pytest.mark.parametrize("params, code", [
    ({**ipn(), "vnp_ResponseCode": "24"}, "97"),                        # tampered after signing
    ({k: v for k, v in ipn().items() if k != "vnp_SecureHash"}, "97"),  # unsigned
    (ipn(secret="not-our-secret"), "97"),
    ({**ipn("NOPE"), "vnp_Amount": "1"}, "97"),                         # tampered callback, unknown order
    ({**ipn(amount_vnd=1), "vnp_TmnCode": "X"}, "97"),                  # wrong amount, bad signature
    (ipn("NOPE"), "01"),
    (ipn("NOPE", amount_vnd=1), "01"),                                  # unknown order before amount
    (ipn(amount_vnd=150_001), "04"),
    (ipn("HS0009", amount_vnd=1), "04"),                                # amount before "already confirmed"
    (ipn("HS0009", amount_vnd=50_000), "02"),
])
def test_ipn_reply_codes_in_order(store, params, code):
    reply = vnpay.handle_ipn(params, CONFIG, store)
    assert reply.rsp_code == code and not reply.settled
    assert (reply.order is None) == (code in ("97", "01"))
    assert store.get("HS0001").status == "pending" and store.get("HS0009").status == "paid"
    assert reply.message == {"97": "Invalid signature", "01": "Order not found", "04": "Invalid amount",
                             "02": "Order already confirmed"}[code]


def test_replay_answers_02_and_settles_once():
    store = CountingStore([Order("HS0001", 150_000)])
    first, second = (vnpay.handle_ipn(ipn(), CONFIG, store) for _ in range(2))
    assert (first.rsp_code, first.settled, second.rsp_code, second.settled) == ("00", True, "02", False)
    assert store.calls == 1 and store.get("HS0001").status == "paid"
    failed_replay = vnpay.handle_ipn(ipn(response="24", status="02"), CONFIG, store)
    assert failed_replay.rsp_code == "02" and store.get("HS0001").status == "paid"


def test_concurrent_replays_settle_exactly_once():
    class RacingStore(CountingStore):
        """Lets all eight callbacks read the pending order before any of them settles it."""

        def __init__(self, *args):
            super().__init__(*args)
            self.gate, self.reads, self.lock = threading.Barrier(8), 0, threading.Lock()

        def get(self, txn_ref):
            order = super().get(txn_ref)
            with self.lock:
                self.reads += 1
                first_round = self.reads <= 8
            if first_round:
                self.gate.wait(timeout=10)
            return order

    store = RacingStore([Order("HS0001", 150_000)])
    replies = []
    threads = [threading.Thread(target=lambda: replies.append(vnpay.handle_ipn(ipn(), CONFIG, store)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert store.calls == 8  # every callback saw "pending"; the store's compare-and-set decided
    assert sorted(reply.rsp_code for reply in replies) == ["00"] + ["02"] * 7
    assert sum(reply.settled for reply in replies) == 1 and store.get("HS0001").status == "paid"


@pytest.mark.parametrize("response, status", [("24", "02"), ("00", "02"), ("51", "02")])
def test_failed_payment_is_recorded_failed(store, response, status):
    reply = vnpay.handle_ipn(ipn(response=response, status=status), CONFIG, store)
    assert (reply.rsp_code, reply.settled, reply.order.status) == ("00", True, "failed")
    assert vnpay.handle_ipn(ipn(), CONFIG, store).rsp_code == "02"  # a later "paid" cannot overwrite it


def test_unexpected_error_answers_99(store):
    class Broken(InMemoryOrderStore):
        def settle(self, *args, **kwargs):
            raise RuntimeError("database is down")

    assert vnpay.handle_ipn(ipn(), CONFIG, Broken([Order("HS0001", 150_000)])).as_json() == {
        "RspCode": "99", "Message": "Unknown error"}


def test_return_url_shows_the_outcome_without_settling(store):
    result = vnpay.verify_return(ipn(), CONFIG)
    assert (result.valid, result.success, result.txn_ref, result.amount_vnd) == (True, True, "HS0001", 150_000)
    cancelled = vnpay.verify_return(ipn(response="24", status="02"), CONFIG)
    assert (cancelled.valid, cancelled.success, cancelled.message) == (True, False, "Khách hàng đã hủy giao dịch")
    forged = vnpay.verify_return({**ipn(), "vnp_Amount": "100"}, CONFIG)
    assert (forged.valid, forged.success, forged.txn_ref) == (False, False, "")
    assert store.get("HS0001").status == "pending"


# --- QueryDR, by hand ---------------------------------------------------------------------------------

def test_querydr_request_checksum():
    body = vnpay.querydr_body(CONFIG, "HS0001", T0, "127.0.0.1", T0 + timedelta(minutes=10), request_id="r1")
    data = "r1|2.1.0|querydr|MOTCUA01|HS0001|20261127093000|20261127094000|127.0.0.1|Truy van giao dich HS0001"
    assert body["vnp_SecureHash"] == by_hand(data)
    answer = {"vnp_ResponseId": "a", "vnp_Command": "querydr", "vnp_ResponseCode": "00", "vnp_Message": "ok",
              "vnp_TmnCode": "MOTCUA01", "vnp_TxnRef": "HS0001", "vnp_Amount": "15000000",
              "vnp_TransactionStatus": "00"}
    answer["vnp_SecureHash"] = by_hand("a|querydr|00|ok|MOTCUA01|HS0001|15000000|||||00|||")
    assert vnpay.verify_querydr_response(answer, SECRET)
    assert not vnpay.verify_querydr_response({**answer, "vnp_TransactionStatus": "01"}, SECRET)


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
    unknown = store.add(Order("HS0008", 80_000, created_at=now))   # the citizen never reached VNPay
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
