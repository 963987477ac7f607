"""Payments: which dossiers wait for a payment, and the ledger of payments the gateway settled.

A procedure that takes a fee builds the signed payment URL in a worker (topic ``payment-check``), keeps
``payment_txn_ref``, ``payment_amount_vnd`` and ``payment_created_at`` as variables and waits at a message
catch event (``payment_received``). A payment is *pending* while its instance waits there; the gateway's
callback (or the reconciliation job) *settles* it by inserting its row in ``payment_order`` — the primary
key makes a replayed or concurrent callback settle once — and then correlates the message.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine import messages, runtime
from engine.models import Dossier, MessageSubscription, PaymentOrder, ProcessInstance
from engine.runtime import Actor

MESSAGE = "payment_received"


@dataclass(frozen=True)
class Payment:
    """A payment as the gateway code needs it: pending (from the waiting instance) or settled (the ledger)."""

    txn_ref: str
    amount_vnd: int
    status: str  # pending, paid, failed
    instance_id: str | None
    business_key: str | None
    order_info: str
    created_at: dt.datetime | None
    message_name: str = MESSAGE
    bank_txn_no: str | None = None
    paid_at: dt.datetime | None = None


def _pending_from(row: ProcessInstance, message_name: str) -> Payment | None:
    variables = json.loads(row.variables)
    txn_ref, amount = variables.get("payment_txn_ref"), variables.get("payment_amount_vnd")
    if not txn_ref or not isinstance(amount, int):
        return None
    created = variables.get("payment_created_at")
    return Payment(txn_ref, amount, "pending", row.id, row.business_key, variables.get("payment_order_info", ""),
                   dt.datetime.fromisoformat(created) if created else None, message_name)


def _settled(row: PaymentOrder) -> Payment:
    return Payment(row.txn_ref, row.amount_vnd, row.status, row.instance_id, row.business_key, row.order_info,
                   row.created_at, row.message_name, row.bank_txn_no, row.paid_at)


def find(session: Session, txn_ref: str, message_name: str = MESSAGE) -> Payment | None:
    """The payment with this reference: settled if the ledger has it, else pending if an instance waits for it."""
    row = session.get(PaymentOrder, txn_ref)
    if row is not None:
        return _settled(row)
    for instance_id in messages.waiting_instances(session, message_name, correlation_keys={"payment_txn_ref": txn_ref}):
        found = _pending_from(session.get(ProcessInstance, instance_id), message_name)
        if found is not None:
            return found
    return None


def pending(session: Session, older_than: dt.datetime, message_name: str = MESSAGE) -> list[Payment]:
    """Payments still waiting, created before ``older_than`` (the reconciliation job asks the gateway)."""
    rows = session.scalars(select(ProcessInstance).join(
        MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id).where(
        MessageSubscription.message_name == message_name, ProcessInstance.status == "active").distinct())
    found = [p for p in (_pending_from(r, message_name) for r in rows) if p is not None]
    settled = set(session.scalars(select(PaymentOrder.txn_ref).where(PaymentOrder.txn_ref.in_(
        [p.txn_ref for p in found])))) if found else set()
    return [p for p in found if p.txn_ref not in settled and p.created_at is not None and p.created_at < older_than]


def settle(session: Session, payment: Payment, status: str, bank_txn_no: str | None, paid_at: dt.datetime | None,
           raw: dict[str, Any]) -> bool:
    """Record the gateway's verdict once; False if the payment was settled already (a replay)."""
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = runtime.now()
    result = session.execute(upsert(PaymentOrder.__table__).values(
        txn_ref=payment.txn_ref, instance_id=payment.instance_id, business_key=payment.business_key,
        amount_vnd=payment.amount_vnd, order_info=payment.order_info[:255], status=status,
        message_name=payment.message_name, bank_txn_no=bank_txn_no, paid_at=paid_at,
        gateway_reply=json.dumps(raw, ensure_ascii=False), created_at=payment.created_at or now, settled_at=now,
    ).on_conflict_do_nothing(index_elements=["txn_ref"]).returning(PaymentOrder.__table__.c.txn_ref))
    if result.first() is None:
        return False  # no row back: it was there already
    if status == "paid" and payment.instance_id:  # the dossier was paid online (Decision 766 indicator 4)
        session.execute(update(Dossier).where(Dossier.instance_id == payment.instance_id,
                                              Dossier.paid_online_at.is_(None)).values(paid_online_at=paid_at or now))
    return True


def correlate(session: Session, payment: Payment, actor: Actor) -> list[str]:
    """Deliver the settled payment to its instance: ``payment_status``, ``payment_bank_txn_no``, ``payment_paid_at``."""
    return messages.correlate(session, payment.message_name, actor, instance_id=payment.instance_id,
                              variables={"payment_status": payment.status, "payment_bank_txn_no": payment.bank_txn_no,
                                         "payment_paid_at": payment.paid_at.isoformat() if payment.paid_at else None})
