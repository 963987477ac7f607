"""The SQL behind the Decision 766 indicators: the dossiers a period handled, counted by one aggregate query that runs
the same on SQLite and PostgreSQL, and the dossiers behind any count.

The dossiers of a period ``[start, end)`` are those accepted (status other than 1 and 3), received before the end
and not resolved before the start: the ones received in the period and those carried over from before. They are
read as four disjoint index ranges (``UNION ALL``) so that a period costs what it holds, not the whole table:

1. received in the period (``ix_dossier_received_at`` / ``ix_dossier_agency_received_at``);
2. received in the :data:`LOOKBACK_DAYS` before it and not resolved before it;
3. received earlier and still unresolved (``ix_dossier_unresolved``, a partial index of open dossiers);
4. received earlier and resolved in or after the period: necessarily more than :data:`LOOKBACK_DAYS` after receipt,
   so in the small partial index ``ix_dossier_long_resolved``.

On PostgreSQL these indexes carry every column read here, so the table itself is never visited. The counts come from
a :func:`cube` — the dossiers grouped by the interval of their receipt, resolution, appointment and pause and a few
yes/no facts — which answers a period and each month of a trend in the same pass; :func:`conditions` states the same
definitions as SQL conditions for the drill-down, so a figure and its list of dossiers always agree (the tests check
every one).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, and_, case, false, func, literal, literal_column, not_, or_, select, text, true
from sqlalchemy import union_all
from sqlalchemy.orm import Session

from engine.models import LONG_RESOLVED_DAYS, Dossier

LOOKBACK_DAYS = LONG_RESOLVED_DAYS
EXCLUDED_STATUSES = (1, 3)  # not yet accepted (Mới đăng ký), refused at intake (Không được tiếp nhận)
COUNT_COLUMNS = ("received_at", "status", "channel", "procedure_code", "due_at", "extended_due_at", "paused_at",
                 "supplement_requests", "resolved_at", "resolved_days", "fee_requested_at", "paid_online_at",
                 "dissatisfied_at")
LIST_COLUMNS = ("instance_id", *COUNT_COLUMNS, "code", "procedure_name", "applicant_name", "agency")
COUNTS = ("processed", "finished", "finished_on_time", "finished_late", "open", "open_on_time", "open_overdue",
          "many_supplements", "dissatisfied", "satisfied", "received", "received_online", "eligible",
          "eligible_online", "with_files", "fee_due", "paid_online")
FLAGS = ("resolved_ok", "paused_ok", "many", "dissatisfied", "online", "fee", "paid", "eligible", "files")


@dataclass(frozen=True)
class Scope:
    """Whose dossiers and how they are judged: the agencies (None: every agency), the appointment to judge against
    (``appointment`` or ``extended``), the supplement requests allowed, and the procedures that count as eligible
    for indicator 3 and as taking uploaded files."""

    agencies: tuple[str, ...] | None = None
    due: str = "appointment"
    max_supplements: int = 1
    eligible_codes: tuple[str, ...] = ()
    file_codes: tuple[str, ...] = ()


def population(scope: Scope, start: dt.datetime, end: dt.datetime, columns: Sequence[str] = COUNT_COLUMNS):
    """The dossiers handled in ``[start, end)`` (``end`` no later than now) as a subquery of ``columns``, plus ``due``
    (the appointment they are judged against)."""
    d = Dossier.__table__.c
    due = func.coalesce(d.extended_due_at, d.due_at) if scope.due == "extended" else d.due_at
    picked = [d[name] for name in columns] + [due.label("due")]
    common = [d.status.not_in(EXCLUDED_STATUSES)]
    if scope.agencies is not None:
        common.append(d.agency.in_(scope.agencies) if scope.agencies else false())
    lookback = start - dt.timedelta(days=LOOKBACK_DAYS)
    parts = (
        [d.received_at >= start, d.received_at < end],
        [d.received_at >= lookback, d.received_at < start, or_(d.resolved_at.is_(None), d.resolved_at >= start)],
        [d.received_at < lookback, d.resolved_at.is_(None)],
        [d.received_at < lookback, d.resolved_at >= start, d.resolved_days > LONG_RESOLVED_DAYS],
    )
    return union_all(*(select(*picked).where(*common, *where) for where in parts)).subquery("handled")


def _among(column, codes: tuple[str, ...]):
    return column.in_(codes) if codes else false()


def conditions(p, scope: Scope, start: dt.datetime, end: dt.datetime) -> dict:
    """Each named count of the indicators (indicators766.toml lists them) as a condition on a handled dossier ``p``."""
    finished = and_(p.c.resolved_at.is_not(None), p.c.resolved_at < end)
    unfinished = or_(p.c.resolved_at.is_(None), p.c.resolved_at >= end)
    few = p.c.supplement_requests <= scope.max_supplements
    finished_on_time = and_(finished, p.c.resolved_at <= p.c.due, few)
    open_on_time = and_(unfinished, few, or_(p.c.due >= end, and_(p.c.paused_at.is_not(None), p.c.paused_at < end,
                                                                   p.c.paused_at <= p.c.due)))
    finished_late, open_overdue = and_(finished, not_(finished_on_time)), and_(unfinished, not_(open_on_time))
    dissatisfied = p.c.dissatisfied_at.is_not(None)
    received = p.c.received_at >= start
    online = and_(received, p.c.channel == "online")
    eligible = and_(received, _among(p.c.procedure_code, scope.eligible_codes))
    fee_due = and_(received, p.c.fee_requested_at.is_not(None))
    return {
        "processed": true(), "finished": finished, "finished_on_time": finished_on_time, "finished_late": finished_late,
        "open": unfinished, "open_on_time": open_on_time, "open_overdue": open_overdue,
        "many_supplements": not_(few), "dissatisfied": dissatisfied,
        "satisfied": and_(not_(or_(finished_late, open_overdue)), not_(dissatisfied)),
        "received": received, "received_online": online, "eligible": eligible,
        "eligible_online": and_(eligible, p.c.channel == "online"),
        "with_files": and_(online, _among(p.c.procedure_code, scope.file_codes)),
        "fee_due": fee_due, "paid_online": and_(fee_due, p.c.paid_online_at.is_not(None)),
    }


def _empty(start: dt.datetime, end: dt.datetime) -> bool:
    return end <= start


def _no_jit(session: Session) -> None:
    # PostgreSQL's JIT compiles these aggregates for ~100 ms on every call, more than the query itself takes
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _bucket(column, bounds: Sequence[dt.datetime], nullable: bool = True):
    """Which interval of ``bounds`` holds ``column``: -1 before the first, ``len(bounds) - 1`` from the last on (or
    NULL), else k for ``[bounds[k], bounds[k + 1])`` — a balanced CASE, a few comparisons per row."""
    last = len(bounds) - 1

    def between(lo: int, hi: int):
        if hi - lo == 1:
            return literal_column(str(lo))
        mid = (lo + hi) // 2
        return case((column < bounds[mid], between(lo, mid)), else_=between(mid, hi))
    edges = [(column < bounds[0], literal_column("-1")), (column >= bounds[last], literal_column(str(last)))]
    return case(*([(column.is_(None), literal_column(str(last)))] if nullable else []), *edges, else_=between(0, last))


def cube(session: Session, scope: Scope, bounds: Sequence[dt.datetime], by_agency: bool = False) -> list[dict]:
    """The dossiers handled between ``bounds[0]`` and ``bounds[-1]`` counted in one pass by the interval of their
    receipt (r), resolution (f), appointment (d) and pause (p); whether they were resolved by the appointment, paused
    before it, had too many supplement requests, were rated unhappy, came online, were asked for a fee and paid it
    online; and whether their procedure is eligible (indicator 3) and takes files. Each group has its number of
    dossiers (n) and their days to resolution (days). :func:`figures` reads any run of intervals from it.

    The database groups by one integer per dossier packing the intervals and the yes/no facts, and by the procedure
    (the catalogue's facts about it are applied here, after): a dozen separate keys made PostgreSQL expect thousands
    of groups and sort, and comparing procedure codes row by row cost more than grouping by them.

    ``by_agency`` groups by the dossier's agency too (each group then names it: ``agency``), so that every agency's
    figures come from the same single pass (:func:`counts_by_agency`)."""
    start, end = bounds[0], bounds[-1]
    if _empty(start, end):
        return []
    p = population(scope, start, end, (*COUNT_COLUMNS, "agency") if by_agency else COUNT_COLUMNS)
    base, last = len(bounds) + 1, len(bounds) - 1  # a bucket is -1 to last: one more, 0 to len(bounds)

    def unit(k: int):
        return literal(k, BigInteger())
    place = [unit(base ** k) for k in range(4)]
    bit = {name: unit(base ** 4 * 2 ** k) for k, name in enumerate(FLAGS[:7])}
    # the appointment's interval matters only for a dossier open at an interval's end: one resolved by its
    # appointment was within it at every such end, so it takes the last interval without computing it
    appointment = case((p.c.resolved_at <= p.c.due, unit((last + 1) * base ** 2) + bit["resolved_ok"]),
                       else_=(_bucket(p.c.due, bounds, nullable=False) + 1) * place[2])
    pause = case((p.c.paused_at.is_(None), unit((last + 1) * base ** 3)),
                 else_=(_bucket(p.c.paused_at, bounds) + 1) * place[3]
                 + case((p.c.paused_at <= p.c.due, bit["paused_ok"]), else_=0))
    fee = case((p.c.fee_requested_at.is_(None), 0), (p.c.paid_online_at.is_(None), bit["fee"]),
               else_=bit["fee"] + bit["paid"])
    packed = ((_bucket(p.c.received_at, bounds, nullable=False) + 1) * place[0]
              + (_bucket(p.c.resolved_at, bounds) + 1) * place[1] + appointment + pause + fee
              + case((p.c.supplement_requests > scope.max_supplements, bit["many"]), else_=0)
              + case((p.c.dissatisfied_at.is_not(None), bit["dissatisfied"]), else_=0)
              + case((p.c.channel == "online", bit["online"]), else_=0))
    owners = [p.c.agency] if by_agency else []
    keys = select(packed.label("key"), p.c.procedure_code, *owners, p.c.resolved_days).subquery("k")
    grouping = [keys.c.key, keys.c.procedure_code, *([keys.c.agency] if by_agency else [])]
    _no_jit(session)
    rows = session.execute(select(*grouping, func.count(), func.sum(keys.c.resolved_days)).group_by(*grouping))
    if not by_agency:
        rows = ((key, code, None, n, days) for key, code, n, days in rows)
    eligible, files = set(scope.eligible_codes), set(scope.file_codes)
    merged: dict[tuple[int, str | None, bool, bool], dict] = {}
    for key, code, owner, n, days in rows:
        group = merged.get((key, owner, code in eligible, code in files))
        if group is None:
            group = {name: int(key) // base ** k % base - 1 for k, name in enumerate(("r", "f", "d", "p"))}
            group.update({name: bool(int(key) // base ** 4 >> k & 1) for k, name in enumerate(FLAGS[:7])})
            group.update(eligible=code in eligible, files=code in files, agency=owner, n=0, days=0.0)
            merged[(key, owner, code in eligible, code in files)] = group
        group["n"] += n
        group["days"] += float(days or 0)
    return list(merged.values())


def figures(groups: list[dict], i: int, j: int) -> dict[str, float]:
    """Every named count of the intervals ``i`` to ``j - 1`` of a :func:`cube`'s bounds, by the definitions of
    :func:`conditions`, and ``resolved_days``: the calendar days the finished ones took, summed."""
    out: dict[str, float] = {**dict.fromkeys(COUNTS, 0), "resolved_days": 0.0}
    for g in groups:
        n = g["n"]
        if g["r"] < j and g["f"] >= i:
            out["processed"] += n
            if g["f"] < j:
                late = not g["resolved_ok"] or g["many"]
                out["finished"] += n
                out["finished_late" if late else "finished_on_time"] += n
                out["resolved_days"] += g["days"]
            else:
                late = g["many"] or not (g["d"] >= j or (g["p"] < j and g["paused_ok"]))
                out["open"] += n
                out["open_overdue" if late else "open_on_time"] += n
            out["many_supplements"] += n if g["many"] else 0
            out["dissatisfied"] += n if g["dissatisfied"] else 0
            out["satisfied"] += n if not late and not g["dissatisfied"] else 0
        if i <= g["r"] < j:
            out["received"] += n
            out["received_online"] += n if g["online"] else 0
            out["eligible"] += n if g["eligible"] else 0
            out["eligible_online"] += n if g["eligible"] and g["online"] else 0
            out["with_files"] += n if g["files"] and g["online"] else 0
            out["fee_due"] += n if g["fee"] else 0
            out["paid_online"] += n if g["fee"] and g["paid"] else 0
    return out


def counts(session: Session, scope: Scope, start: dt.datetime, end: dt.datetime) -> dict[str, float]:
    """Every named count over the dossiers handled in ``[start, end)``, and ``resolved_days``."""
    return figures(cube(session, scope, [start, end]), 0, 1)


def counts_by_agency(session: Session, scope: Scope, start: dt.datetime, end: dt.datetime
                     ) -> dict[str | None, dict[str, float]]:
    """:func:`counts` for each agency of ``scope`` that handled a dossier in ``[start, end)`` (None: dossiers without
    an agency), all from one query grouped by agency."""
    by: dict[str | None, list[dict]] = {}
    for group in cube(session, scope, [start, end], by_agency=True):
        by.setdefault(group["agency"], []).append(group)
    return {agency: figures(groups, 0, 1) for agency, groups in by.items()}


def dossiers(session: Session, scope: Scope, start: dt.datetime, end: dt.datetime, name: str, offset: int = 0,
             limit: int | None = 50) -> Iterator[dict]:
    """The dossiers behind the count ``name``, by receipt then id, as dicts of :data:`LIST_COLUMNS` and ``due``; read
    as they are iterated (all of them, a thousand at a time, without ``limit``)."""
    if _empty(start, end):
        return
    p = population(scope, start, end, LIST_COLUMNS)
    query = select(p).where(conditions(p, scope, start, end)[name]).order_by(p.c.received_at, p.c.instance_id) \
        .offset(offset)
    if limit is not None:
        query = query.limit(limit)
    for row in session.execute(query.execution_options(yield_per=1000) if limit is None else query):
        yield dict(row._mapping)
