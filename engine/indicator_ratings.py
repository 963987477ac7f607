"""Citizens' ratings for the Decision 766 dashboard: per agency and per officer, over the ratings given in a period.

A rating (engine.ratings) belongs to the agency its dossier had when it was rated. It is attributed to the officers
the citizen dealt with at the one-stop desk: whoever completed the dossier's **first** user task (the intake check)
and whoever completed its **last** (the hand-over of the result), read from the history (``task_completed`` events
with the officer's name). When one officer did both, the rating counts once for them. Officers of the steps in
between (specialists, leaders) are not credited: the citizen never met them, and criteria 3, 4, 5 and 7 judge the
desk.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from engine.citizen_models import DISSATISFIED, DossierRating
from engine.indicator_queries import Scope
from engine.models import Account, HistoryEvent
from engine.office_models import Agency
from engine.ratings import QUESTIONS

CRITERIA = 1 + len(QUESTIONS)  # criterion 1 is computed from the clock, the others asked
MAX_SCORE = 2 * CRITERIA


def _dissatisfied(session: Session):
    return text(DISSATISFIED.get(session.get_bind().dialect.name, DISSATISFIED["sqlite"]))


def _in_scope(scope: Scope, start: dt.datetime, end: dt.datetime) -> list:
    where = [DossierRating.rated_at >= start, DossierRating.rated_at < end]
    if scope.agencies is not None:
        where.append(DossierRating.agency.in_(scope.agencies))
    return where


def _row(name: str, title: str | None, count: int, total: float | None, unhappy: int) -> dict:
    return {"key": name, "title": title or name, "ratings": count,
            "averageScore": total / count if count and total is not None else None,
            "dissatisfied": unhappy, "satisfiedShare": (count - unhappy) / count if count else None}


def by_agency(session: Session, scope: Scope, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Ratings given in ``[start, end)`` per agency: how many, the mean score (of :data:`MAX_SCORE`), how many said
    "Không hài lòng" and the share that did not. Two index-only queries (the dissatisfied ones from their partial
    index)."""
    where = _in_scope(scope, start, end)
    totals = session.execute(select(DossierRating.agency, func.count(), func.avg(DossierRating.score))
                             .where(*where).group_by(DossierRating.agency)).all()
    unhappy = dict(session.execute(select(DossierRating.agency, func.count()).where(*where, _dissatisfied(session))
                                   .group_by(DossierRating.agency)).all())
    names = dict(session.execute(select(Agency.code, Agency.name)).all())
    rows = [_row(code or "", names.get(code) if code else "Không rõ cơ quan", n,
                 float(avg) * n if avg is not None else None, unhappy.get(code, 0)) for code, n, avg in totals]
    return sorted(rows, key=lambda r: (-r["ratings"], r["key"]))


def by_officer(session: Session, scope: Scope, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """Ratings given in ``[start, end)`` per officer of the desk (see the module's note on attribution), most rated
    first."""
    unhappy_flag = case((_dissatisfied(session), 1), else_=0)
    rated = select(DossierRating.instance_id, DossierRating.score, unhappy_flag.label("unhappy")) \
        .where(*_in_scope(scope, start, end)).subquery("rated")
    ends = select(HistoryEvent.instance_id, func.min(HistoryEvent.id).label("first"),
                  func.max(HistoryEvent.id).label("last")) \
        .where(HistoryEvent.kind == "task_completed", HistoryEvent.instance_id.in_(select(rated.c.instance_id))) \
        .group_by(HistoryEvent.instance_id).subquery("ends")
    who = select(ends.c.instance_id, HistoryEvent.user_id) \
        .join(HistoryEvent, or_(HistoryEvent.id == ends.c.first, HistoryEvent.id == ends.c.last)) \
        .where(HistoryEvent.user_id.is_not(None)).distinct().subquery("who")
    rows = session.execute(
        select(who.c.user_id, Account.display_name, func.count(), func.sum(rated.c.score), func.sum(rated.c.unhappy))
        .join(rated, rated.c.instance_id == who.c.instance_id)
        .outerjoin(Account, and_(Account.name == who.c.user_id))
        .group_by(who.c.user_id, Account.display_name)).all()
    found = [_row(user, display, n, float(total) if total is not None else None, int(unhappy or 0))
             for user, display, n, total, unhappy in rows]
    return sorted(found, key=lambda r: (-r["ratings"], r["key"]))
