"""VNPay 2.1.0: signing, IPN reply codes and their order, idempotent settlement, the QueryDR checksum.
The stand-in gateway, QueryDR and reconciliation are in test_vnpay_standin.py."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from tests.workers.vnpay_support import CONFIG, SECRET, T0, VIETNAMESE, CountingStore, InMemoryOrderStore, by_hand, ipn
from workers.payments import vnpay
from workers.payments.vnpay import Order


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
    with pytest.raises(ValueError, match="MOTCUA_VNPAY_HASH_SECRET"):
        vnpay.VnpayConfig.from_env({"MOTCUA_VNPAY_TMN_CODE": "T1", "MOTCUA_VNPAY_URL": "https://pay.example"})
    standin = vnpay.VnpayConfig.from_env({"MOTCUA_VNPAY_STANDIN": "1"})
    assert standin.pay_url == "http://localhost:5000/sandbox-vnpay/paymentv2/vpcpay.html"


def test_without_a_gateway_or_the_stand_in_there_is_no_config_and_no_payment_url():
    with pytest.raises(vnpay.PaymentsUnavailable, match="MOTCUA_VNPAY_STANDIN"):
        vnpay.VnpayConfig.from_env({})
    from workers import payment_check
    with pytest.raises(vnpay.PaymentsUnavailable):
        payment_check.handle({"fee_vnd": 150_000, "dossier_code": "HS-1"})


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
