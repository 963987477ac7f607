"""The web sessions of people (citizens, officers), kept on the server so that signing out or disabling an account
ends them even where a copy of the cookie survives. Registered on :mod:`engine.models`' metadata."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class WebSession(Base):
    """One signed-in web session: the cookie carries its random id, the table only the id's SHA-256."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_subject", "kind", "subject"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # citizen, officer
    subject: Mapped[str] = mapped_column(String(100))  # the citizen's identification number, the account's name
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
