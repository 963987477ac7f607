"""Files an officer has uploaded for an open user task's form and not yet completed it with (a field of several
files fills up over several uploads). Registered on :mod:`engine.models`' metadata; the rows go with their task
(ON DELETE CASCADE) and, while they exist, their files count as named (engine.upload_refs)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, UTCDateTime


class TaskUpload(Base):
    """One file kept for one field of an open task's form, in the order it was uploaded."""

    __tablename__ = "task_upload"

    task_id: Mapped[str] = mapped_column(ForeignKey("user_task.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str] = mapped_column(String(255), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
