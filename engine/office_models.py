"""The tables of the officers' side: agencies, groups, comments between officers and saved inbox filters.

They live apart from :mod:`engine.models` (the engine's core tables) but on the same metadata; importing
:mod:`engine.models` registers them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class Agency(Base):
    """An agency that receives or handles dossiers, by its code in the national list (e.g. ``000.00.16.H56``)."""

    __tablename__ = "agency"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    parent_code: Mapped[str | None] = mapped_column(String(64))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OfficeGroup(Base):
    """A group that BPMN candidate groups name (one-stop desk, specialist, leader), with its title."""

    __tablename__ = "office_group"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DossierComment(Base):
    """A note between officers on a dossier (never shown to the citizen)."""

    __tablename__ = "dossier_comment"
    __table_args__ = (Index("ix_dossier_comment_instance_id_id", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class SavedFilter(Base):
    """An officer's named inbox filter (the query string of the inbox page)."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("account", "name", name="uq_saved_filter_account_name"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(ForeignKey("account.name", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
