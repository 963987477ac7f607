"""The tables of the citizens' side: application drafts, ratings, status notices (the outbox) and the rate limits
of public pages.

They live apart from :mod:`engine.models` (the engine's core tables) but on the same metadata; importing
:mod:`engine.models` registers them.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class RateLimit(Base):
    """How many attempts a key (an action and a client) made in its current window."""

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(Integer)


class ApplicationDraft(Base):
    """A citizen's application in progress: the answers so far, kept on every page so nothing is lost."""

    __tablename__ = "application_draft"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(12), index=True)
    procedure_code: Mapped[str] = mapped_column(String(100))
    process_key: Mapped[str] = mapped_column(String(255))
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    submitted_code: Mapped[str | None] = mapped_column(String(80))


# A rating is "không hài lòng" when the citizen answered "Không hài lòng" (0) to the overall question (criterion 11,
# engine.ratings); the Decision 766 indicators count these dossiers through a partial index, so the test is spelled
# here once per database, exactly as the queries write it.
DISSATISFIED = {"sqlite": "json_extract(answers, '$.tieu_chi_11') = 0",
                "postgresql": "(answers::json ->> 'tieu_chi_11') = '0'"}


class DossierRating(Base):
    """The citizen's evaluation of a finished dossier (Decree 61/2018 Art. 30-32 criteria), once per dossier."""

    __tablename__ = "dossier_rating"
    __table_args__ = (
        Index("ix_dossier_rating_agency_rated_at", "agency", "rated_at", postgresql_include=["score"]),
        Index("ix_dossier_rating_dissatisfied", "instance_id", "rated_at", "agency",
              sqlite_where=text(DISSATISFIED["sqlite"]), postgresql_where=text(DISSATISFIED["postgresql"])),
    )

    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(255))
    procedure_code: Mapped[str | None] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(64))  # the dossier's agency when it was rated
    answers: Mapped[str] = mapped_column(Text)  # JSON: criterion → score or choice
    score: Mapped[int] = mapped_column(Integer)
    rated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class DossierNotice(Base):
    """A status change to tell the citizen about (the outbox: written with the change, sent after it)."""

    __tablename__ = "dossier_notice"
    __table_args__ = (Index("ix_dossier_notice_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    code: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # what else to tell (e.g. forwarded to another agency)
