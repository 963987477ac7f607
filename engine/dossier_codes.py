"""Dossier codes: ``{agency code}-{yyMMdd}-{NNNN}``, the sequence per receiving agency and day.

The counter of an agency's day is one row, taken and incremented in a single ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` statement, so concurrent submissions (several web processes on one PostgreSQL) each get
the next number and never the same one; a failed submission's transaction rolls its number back with it.
The day is the Vietnamese calendar day of the submission (UTC+7).
"""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.errors import BadInput
from engine.models import DossierSequence

VIETNAM = dt.timezone(dt.timedelta(hours=7))
AGENCY_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.]{0,63}$")


def next_code(session: Session, agency: str, at: dt.datetime) -> str:
    """The next dossier code of ``agency`` on the day of ``at`` (in Vietnam)."""
    if not agency or not AGENCY_CODE.match(agency):
        raise BadInput(f"'{agency}' is not an agency code (letters, digits and dots, e.g. 000.00.00.H56)")
    day = at.astimezone(VIETNAM).date()
    table = DossierSequence.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(agency=agency, day=day, last=1)
    statement = statement.on_conflict_do_update(index_elements=["agency", "day"], set_={"last": table.c.last + 1})
    number = session.execute(statement.returning(table.c.last)).scalar_one()
    return f"{agency}-{day:%y%m%d}-{number:04d}"
