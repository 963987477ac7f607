"""The Decision 766 indicators of every agency side by side, for a provincial manager: one row per agency with each
computable indicator and the total score, for one period.

Every agency's counts come from one query grouped by agency (:func:`engine.indicator_queries.counts_by_agency`);
the rest is arithmetic here. Agencies form a tree through ``agency.parent_code``: an agency with child agencies
gets a row for itself *and* them (the counts added up, then scored), followed by its children's rows and, when it
received dossiers itself, a row of its own dossiers only. The counts are sums over disjoint sets of dossiers, so a
parent's row scores exactly as the dashboard scores the same agencies chosen together.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import catalogue, indicator_queries
from engine.indicator_periods import Period
from engine.indicator_queries import COUNTS, Scope
from engine.indicators766 import Config, Result, Spec, effective_end, score
from engine.office_models import Agency

NO_AGENCY = "Không rõ cơ quan"
# what a row counts: one agency (no children), an agency and its children, the own dossiers of an agency that has
# children, the dossiers without an agency, every agency in scope (the total)
KINDS = ("agency", "tree", "own", "none", "all")
NAME, TOTAL, SHARE = "ten", "tong", "ty_le"  # sort keys besides the indicator codes


@dataclass
class Row:
    """One line of the comparison: whose dossiers (``kind``, ``code``, ``agencies``), their counts and scores."""

    kind: str
    code: str | None
    name: str
    agencies: tuple[str, ...]
    counts: dict[str, float]
    results: list[Result]
    depth: int = 0
    children: list[Row] = field(default_factory=list)

    @property
    def key(self) -> str:
        """Unique within a comparison (an agency's own row shares its code with the agency's row)."""
        return f"{self.kind}:{self.code or ''}"

    @property
    def total(self) -> tuple[float, float]:
        """Points earned and the maximum of the indicators that have points."""
        scored = [r for r in self.results if r.points is not None]
        return sum(r.points for r in scored), sum(r.spec.max for r in scored)

    @property
    def share(self) -> float | None:
        """Points earned over the points that could be earned; None when no indicator has points."""
        earned, possible = self.total
        return earned / possible if possible else None

    def sort_value(self, key: str) -> Any:
        """What the column ``key`` sorts by: the name, the total, the share of points, or an indicator's ratio (its
        mean, for an average); None for nothing (sorted last either way)."""
        if key == NAME:
            return (collation_key(self.name), self.code or "")
        if key == TOTAL:
            return self.total[0] if self.total[1] else None
        if key == SHARE:
            return self.share
        result = next((r for r in self.results if r.spec.code == key), None)
        if result is None:
            return None
        return result.mean if result.spec.average else result.ratio


@dataclass
class Comparison:
    """Every agency's row for a period (a tree: ``rows`` are the top ones) and the total over all of them."""

    period: Period
    end: dt.datetime
    specs: tuple[Spec, ...]  # the computable indicators, the table's columns
    rows: list[Row]
    total: Row | None  # every agency together (None when the scope is some agencies only)

    def ordered(self, key: str = NAME, descending: bool = False) -> list[Row]:
        """The rows depth first, each agency's children after it, siblings sorted by ``key``."""
        return _flatten(self.rows, key, descending)


def sort_keys(config: Config) -> tuple[str, ...]:
    """The columns a comparison sorts by: name, total, share of points and each computable indicator's code."""
    return (NAME, TOTAL, SHARE, *(s.code for s in config.indicators if s.computable))


def collation_key(name: str) -> str:
    """A Vietnamese name as it sorts: letters without their marks first (``Ủy`` with ``Uy``, ``Đ`` with ``D``), then
    the marks."""
    bare = "".join(c for c in unicodedata.normalize("NFD", name) if not unicodedata.combining(c))
    return bare.replace("đ", "d").replace("Đ", "D").casefold() + "\0" + name


def _flatten(rows: list[Row], key: str, descending: bool) -> list[Row]:
    """Depth first; siblings by ``key``, those without a value after (by name), the dossiers without an agency
    last."""
    unknown = [r for r in rows if r.kind == "none"]
    present = [r for r in rows if r.kind != "none" and r.sort_value(key) is not None]
    present.sort(key=lambda r: r.sort_value(key), reverse=descending)
    missing = sorted((r for r in rows if r.kind != "none" and r.sort_value(key) is None),
                     key=lambda r: r.sort_value(NAME))
    out: list[Row] = []
    for row in present + missing + unknown:
        out.append(row)
        out.extend(_flatten(row.children, key, descending))
    return out


def _added(many: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {**dict.fromkeys(COUNTS, 0), "resolved_days": 0.0}
    for counts in many:
        for name, value in counts.items():
            out[name] += value
    return out


def _agencies(session: Session) -> tuple[dict[str, str], dict[str, str | None], set[str]]:
    """Every agency's name (the table's, else the catalogue's) and parent, and the disabled ones; the catalogue's
    agencies that have no row have no parent."""
    names = {p.entry["agency"]: p.entry.get("agency_name") or p.entry["agency"]
             for p in catalogue.procedures(session) if p.entry.get("agency")}
    parents: dict[str, str | None] = dict.fromkeys(names)
    disabled = set()
    for code, name, parent, off in session.execute(select(Agency.code, Agency.name, Agency.parent_code,
                                                          Agency.disabled)):
        names[code], parents[code] = name, parent
        if off:
            disabled.add(code)
    return names, parents, disabled


def _roots_and_children(codes: set[str], parents: dict[str, str | None]) -> tuple[list[str], dict[str, list[str]]]:
    """The tree over ``codes``: an agency whose parent is not among them (or that is its own ancestor) is a root."""
    children: dict[str, list[str]] = {}
    roots = []
    for code in sorted(codes):
        parent, seen = parents.get(code), {code}
        while parent is not None and parent not in codes and parent not in seen:
            seen.add(parent)
            parent = parents.get(parent)  # a parent out of scope: attach to the nearest ancestor in it
        if parent is None or parent not in codes or _ancestor(code, parent, parents):
            roots.append(code)
        else:
            children.setdefault(parent, []).append(code)
    return roots, children


def _ancestor(code: str, of: str, parents: dict[str, str | None]) -> bool:
    """Whether ``code`` is among the ancestors of ``of`` (a loop in the parent links)."""
    seen, parent = set(), parents.get(of)
    while parent is not None and parent not in seen:
        if parent == code:
            return True
        seen.add(parent)
        parent = parents.get(parent)
    return False


def _row(config: Config, kind: str, code: str | None, name: str, agencies: tuple[str, ...],
         counts: dict[str, float], depth: int) -> Row:
    specs = [s for s in config.indicators if s.computable]
    return Row(kind, code, name, agencies, counts, [score(s, counts) for s in specs], depth)


def _build(config: Config, code: str, depth: int, names: dict[str, str], children: dict[str, list[str]],
           per: dict[str | None, dict[str, float]]) -> Row:
    empty = _added([])
    if code not in children:
        return _row(config, "agency", code, names.get(code, code), (code,), per.get(code, empty), depth)
    below = [_build(config, child, depth + 1, names, children, per) for child in children[code]]
    own = per.get(code, empty)
    total = _added([own, *(r.counts for r in below)])
    row = _row(config, "tree", code, names.get(code, code),
               tuple(sorted({code, *(a for r in below for a in r.agencies)})), total, depth)
    if any(own[name] for name in COUNTS):
        below.append(_row(config, "own", code, names.get(code, code), (code,), own, depth + 1))
    row.children = below
    return row


def compare(session: Session, config: Config, scope: Scope, period: Period, now: dt.datetime) -> Comparison:
    """The rows of every agency in ``scope`` (every enabled agency, defined or named by the catalogue, and any other
    that handled dossiers in the period) for ``period``, up to now for the current one."""
    end = effective_end(period, now)
    per = indicator_queries.counts_by_agency(session, scope, period.start, end) if end > period.start else {}
    names, parents, disabled = _agencies(session)
    codes = {c for c in parents if c not in disabled} | {c for c in per if c is not None}
    if scope.agencies is not None:
        codes &= set(scope.agencies)
    roots, children = _roots_and_children(codes, parents)
    rows = [_build(config, code, 0, names, children, per) for code in roots]
    if None in per:
        rows.append(_row(config, "none", None, NO_AGENCY, (), per[None], 0))
    specs = tuple(s for s in config.indicators if s.computable)
    total = None
    if scope.agencies is None:
        total = _row(config, "all", None, "Tất cả cơ quan", (), _added(list(per.values())), 0)
    return Comparison(period, end, specs, rows, total)


def with_children(session: Session, code: str) -> tuple[str, ...]:
    """``code`` and every agency below it (children, their children…), sorted."""
    parents = dict(session.execute(select(Agency.code, Agency.parent_code)).all())
    found, frontier = {code}, [code]
    while frontier:
        frontier = [c for c, p in parents.items() if p in frontier and c not in found]
        found.update(frontier)
    return tuple(sorted(found))
