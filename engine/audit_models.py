"""The operators' tables: the audit log of administrative actions, and the heartbeats of background components.

They live apart from :mod:`engine.models` (the engine's core tables) but on the same metadata; importing
:mod:`engine.models` registers them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class AuditEvent(Base):
    """One administrative action: who did what to which object, when and why. Written in the transaction of the
    change it records, never updated or deleted by the application."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_at", "actor", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
        Index("ix_audit_event_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))  # deploy, instance_suspend, account_add, ... (engine.audit)
    target_kind: Mapped[str] = mapped_column(String(50))  # deployment, instance, account, agency, group, dossier, ...
    target_id: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # JSON object


class Heartbeat(Base):
    """When a running component (one scheduler process) last showed it was alive; one row per process."""

    __tablename__ = "heartbeat"

    component: Mapped[str] = mapped_column(String(50), primary_key=True)  # scheduler
    instance: Mapped[str] = mapped_column(String(255), primary_key=True)  # host:pid
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
