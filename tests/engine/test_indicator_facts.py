"""What the Decision 766 indicators read of a dossier is kept as it happens: the end of processing (the first end
status, else the end of the procedure), the fee asked for, the payment made online, the rating's agency — and
migration 0020 fills them in from the history for dossiers that existed before it."""
from __future__ import annotations

import datetime as dt
import json

from alembic import command
from sqlalchemy import text

from engine import db, dossiers, payments, ratings, schema
from engine.citizen_models import DossierRating
from engine.models import Dossier
from tests.engine.test_indicators766 import A, add, may, vn  # noqa: F401  (the fixture)


def _fresh(factory, code="F1"):
    with db.transaction(factory) as session:
        iid = add(session, code, vn(5, 4), vn(5, 8, 17), status=2)
        session.get(Dossier, iid).owner_id = "001099012345"
    return iid


def test_the_end_of_processing_is_the_first_end_status(factory, may):  # noqa: F811
    iid = _fresh(factory)
    with db.transaction(factory) as session:
        dossiers.set_status(session, iid, 6, vn(5, 5))
        dossiers.set_status(session, iid, 4, vn(5, 6))
        dossiers.set_status(session, iid, 6, vn(5, 6, 10))  # asked again: the first time stays
        dossiers.set_status(session, iid, 9, vn(5, 7))
        dossiers.set_status(session, iid, 10, vn(5, 9))  # handed over later: processing ended at 9
        dossiers.finish(session, iid, vn(5, 9, 1))
    with db.transaction(factory) as session:
        dossier = session.get(Dossier, iid)
        assert dossier.fee_requested_at == vn(5, 5) and dossier.resolved_at == vn(5, 7)
        assert dossier.resolved_days == 3.0 and dossier.finished_at == vn(5, 9, 1)


def test_a_procedure_that_ends_without_an_end_status_is_resolved_at_its_end(factory, may):  # noqa: F811
    iid = _fresh(factory)
    with db.transaction(factory) as session:
        dossiers.finish(session, iid, vn(5, 6, 21))
    with db.transaction(factory) as session:
        assert session.get(Dossier, iid).resolved_at == vn(5, 6, 21)


def test_a_fee_paid_through_the_gateway_marks_the_dossier(factory, may):  # noqa: F811
    paid, failed = _fresh(factory, "F1"), _fresh(factory, "F2")
    with db.transaction(factory) as session:
        for ref, iid, status in (("T1", paid, "paid"), ("T2", failed, "failed")):
            payment = payments.Payment(ref, 200000, "pending", iid, "F", "le phi", vn(5, 4, 10))
            assert payments.settle(session, payment, status, "B1", vn(5, 4, 11), {})
        assert not payments.settle(session, payments.Payment("T1", 200000, "pending", paid, "F", "x", None), "paid",
                                   "B1", vn(5, 4, 12), {})  # a replay changes nothing
    with db.transaction(factory) as session:
        assert session.get(Dossier, paid).paid_online_at == vn(5, 4, 11)
        assert session.get(Dossier, failed).paid_online_at is None


def test_a_rating_keeps_its_dossiers_agency_and_an_unhappy_one_marks_the_dossier(factory, may):  # noqa: F811
    happy, unhappy = _fresh(factory, "F1"), _fresh(factory, "F2")
    with db.transaction(factory) as session:
        for code, iid, overall in (("F1", happy, "1"), ("F2", unhappy, "0")):
            dossiers.set_status(session, iid, 10, vn(5, 7))
            answers = {**{key: "2" for key in ratings.QUESTIONS}, ratings.DISSATISFIED_QUESTION: overall}
            ratings.rate(session, code, "001099012345", answers, vn(5, 8))
    with db.transaction(factory) as session:
        assert session.get(DossierRating, happy).agency == A
        assert session.get(Dossier, happy).dissatisfied_at is None
        assert session.get(Dossier, unhappy).dissatisfied_at == vn(5, 8)


def test_the_migration_fills_in_existing_dossiers(engine, factory, may):  # noqa: F811
    config = schema.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0019")
    stamp = engine.dialect.name == "sqlite"

    def at(moment):  # as the engine's UTC column stores it
        moment = moment.astimezone(dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if stamp else moment

    events = [(may["A1"], 6, vn(5, 4, 10)), (may["A1"], 9, vn(5, 7, 10)), (may["A1"], 10, vn(5, 8)),
              (may["A7"], 5, vn(5, 14)), (may["A7"], 9, vn(5, 29))]
    with engine.begin() as c:
        for iid, status, moment in events:
            c.execute(text("INSERT INTO history_event (instance_id, at, kind, details) VALUES (:i, :at, "
                           "'dossier_status', :d)"), {"i": iid, "at": at(moment), "d": json.dumps(
                               {"status": status, "label": "x", "at": moment.isoformat()}, ensure_ascii=False)})
        c.execute(text("INSERT INTO payment_order (txn_ref, instance_id, business_key, amount_vnd, order_info, status, "
                       "message_name, paid_at, created_at) VALUES ('T1', :i, 'A1', 8000, 'x', 'paid', 'm', :p, :p)"),
                  {"i": may["A1"], "p": at(vn(5, 4, 11))})
    assert schema.upgrade(engine) == schema.head_revision()
    with db.transaction(factory) as session:
        first = session.get(Dossier, may["A1"])
        assert (first.fee_requested_at, first.resolved_at, first.paid_online_at) == (vn(5, 4, 10), vn(5, 7, 10),
                                                                                      vn(5, 4, 11))
        assert abs(first.resolved_days - 3.0417) < 0.001
        assert session.get(Dossier, may["A7"]).resolved_at == vn(5, 29)
        assert session.get(Dossier, may["A4"]).resolved_at is None  # open, no history
        assert session.get(Dossier, may["A3"]).resolved_at == vn(5, 2, 10)  # finished, no status history: its end
        assert session.get(DossierRating, may["A2"]).agency == A
        assert session.get(Dossier, may["A2"]).dissatisfied_at == vn(5, 13)
        assert session.get(Dossier, may["A1"]).dissatisfied_at is None
