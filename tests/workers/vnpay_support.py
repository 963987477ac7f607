"""What the VNPay tests share: the test terminal, hand-signed callbacks, order stores."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
import hmac
import threading
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote_plus

import pytest

from workers.payments import vnpay
from workers.payments.vnpay import Order


class InMemoryOrderStore:
    """A thread-safe :class:`workers.payments.vnpay.OrderStore` in memory, for the tests."""

    def __init__(self, orders: Iterable[Order] = ()):
        self._lock = threading.Lock()
        self._orders = {order.txn_ref: order for order in orders}

    def add(self, order: Order) -> Order:
        """Store a new order (replacing one with the same reference)."""
        with self._lock:
            self._orders[order.txn_ref] = order
        return order

    def get(self, txn_ref: str) -> Order | None:
        """The order, or None."""
        with self._lock:
            return self._orders.get(txn_ref)

    def pending(self) -> list[Order]:
        """The orders still waiting for the gateway's word."""
        with self._lock:
            return [order for order in self._orders.values() if order.status == "pending"]

    def settle(self, txn_ref: str, status: str, bank_txn_no: str | None, pay_date: datetime | None,
               raw: dict[str, str]) -> bool:
        """Record the outcome if the order is still pending; False if it was settled already."""
        with self._lock:
            order = self._orders.get(txn_ref)
            if order is None or order.status != "pending":
                return False
            self._orders[txn_ref] = replace(order, status=status, bank_txn_no=bank_txn_no, paid_at=pay_date,
                                            raw=dict(raw))
            return True


SECRET = "TESTSECRETKEY0123456789ABCDEFGHI"
CONFIG = vnpay.VnpayConfig("MOTCUA01", SECRET, "http://localhost/sandbox-vnpay/paymentv2/vpcpay.html",
                           "http://merchant.test/thanh-toan/ket-qua?nguon=vnpay")
T0 = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)  # 09:30 in Hà Nội
VIETNAMESE = "Lệ phí cấp bản sao trích lục hộ tịch — hồ sơ 000.00.01.H12-261127-0001 & 100% + 5=5 / đủ"


def by_hand(data: str, secret: str = SECRET) -> str:
    """The documented algorithm, independent of the code under test."""
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def hand_signed(params: dict[str, str], secret: str = SECRET) -> dict[str, str]:
    """Parameters with a signature computed by hand."""
    query = "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in sorted(params.items()))
    return {**params, "vnp_SecureHash": by_hand(query, secret)}


def ipn(txn_ref: str = "HS0001", amount_vnd: int = 150_000, response: str = "00", status: str = "00",
        secret: str = SECRET) -> dict[str, str]:
    """A hand-signed IPN callback."""
    return hand_signed({"vnp_Amount": str(amount_vnd * 100), "vnp_BankCode": "NCB", "vnp_BankTranNo": "VNP1",
                        "vnp_CardType": "ATM", "vnp_OrderInfo": "Le phi ho tich", "vnp_PayDate": "20261127093512",
                        "vnp_ResponseCode": response, "vnp_TmnCode": "MOTCUA01", "vnp_TransactionNo": "14000123",
                        "vnp_TransactionStatus": status, "vnp_TxnRef": txn_ref}, secret)


@pytest.fixture
def store() -> InMemoryOrderStore:
    """Two orders: HS0001 pending, HS0009 already paid."""
    return InMemoryOrderStore([Order("HS0001", 150_000, created_at=T0), Order("HS0009", 50_000, status="paid")])


class CountingStore(InMemoryOrderStore):
    """An in-memory store that counts the settle calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def settle(self, *args, **kwargs):
        self.calls += 1
        return super().settle(*args, **kwargs)
