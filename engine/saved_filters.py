"""An officer's saved inbox filters: a name and the query string of the inbox page, seen and deleted only by the
officer who saved them. Saving under a name the officer already used replaces that filter."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import BadInput, NotFound
from engine.office_models import SavedFilter

MAX_NAME = 100  # characters (the column's length)
MAX_QUERY = 2000  # characters of query string
MAX_PER_ACCOUNT = 50


def _as_dict(row: SavedFilter) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "query": row.query}


def listing(session: Session, account: str) -> list[dict[str, Any]]:
    """The account's saved filters, by name."""
    return [_as_dict(r) for r in session.scalars(select(SavedFilter).where(SavedFilter.account == account)
                                                 .order_by(SavedFilter.name, SavedFilter.id))]


def save(session: Session, account: str, name: str, query: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Save ``query`` under ``name`` for the account (replacing the account's filter of that name)."""
    name = " ".join((name or "").split())
    if not name:
        raise BadInput("Nhập tên cho bộ lọc")
    if len(name) > MAX_NAME:
        raise BadInput(f"Tên bộ lọc dài tối đa {MAX_NAME} ký tự")
    if len(query or "") > MAX_QUERY:
        raise BadInput("Bộ lọc quá dài để lưu")
    row = session.scalars(select(SavedFilter).where(SavedFilter.account == account, SavedFilter.name == name)).first()
    if row is None:
        saved = session.scalar(select(func.count()).select_from(SavedFilter).where(SavedFilter.account == account))
        if saved >= MAX_PER_ACCOUNT:
            raise BadInput(f"Mỗi cán bộ lưu được tối đa {MAX_PER_ACCOUNT} bộ lọc; hãy xoá bớt bộ lọc cũ")
        row = SavedFilter(account=account, name=name, created_at=now or dt.datetime.now(dt.timezone.utc))
        session.add(row)
    row.query = query or ""
    session.flush()
    return _as_dict(row)


def delete(session: Session, account: str, filter_id: int) -> None:
    """Delete one of the account's saved filters; :class:`NotFound` for anyone else's (or none)."""
    row = session.get(SavedFilter, filter_id)
    if row is None or row.account != account:
        raise NotFound(f"no saved filter {filter_id}")
    session.delete(row)
