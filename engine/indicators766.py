"""The Decision 766/QĐ-TTg indicators motcua can compute from its own dossiers, for an agency (or all) and a period.

What each indicator counts, its weight (maximum points), its threshold and its formula in words live in a TOML
file (``engine/indicators766.toml``, or the file ``MOTCUA_766_CONFIG`` names): an indicator names its numerator
and denominator as sums of the counts :mod:`engine.indicator_queries` makes, or gives the reason it cannot be
computed from the system's data. Points follow the threshold rule: the full weight at a ratio of at least the
threshold, else ``ratio / threshold × weight``. Nothing is invented: an indicator without the data shows its
reason and no number, and the dashboard's total is over the computable indicators only.
"""
from __future__ import annotations

import datetime as dt
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine import catalogue, indicator_periods, indicator_queries, indicator_ratings
from engine.config import PROJECT_DIR
from engine.indicator_periods import Period
from engine.indicator_queries import COUNTS, Scope

DEFAULT_CONFIG = PROJECT_DIR / "engine" / "indicators766.toml"
TREND_MONTHS = 12


@dataclass(frozen=True)
class Spec:
    """One indicator as the configuration describes it."""

    code: str
    group: str
    name: str
    max: float
    formula: str
    threshold: float = 1.0
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    average: str | None = None
    reason: str | None = None  # why it cannot be computed; None: it can
    unverified: str | None = None
    api: str | None = None

    @property
    def computable(self) -> bool:
        """Whether motcua's data give a number."""
        return self.reason is None


@dataclass(frozen=True)
class Config:
    """The rules, groups and indicators of a configuration file."""

    path: Path
    due: str
    max_supplements: int
    eligible_levels: tuple[str, ...]
    groups: tuple[tuple[str, str, float], ...]  # code, name, max
    indicators: tuple[Spec, ...]


def _spec(raw: dict[str, Any], groups: set[str], where: Path) -> Spec:
    code = str(raw.get("code") or "")
    problem = None
    if not code or raw.get("group") not in groups or not raw.get("name") or not raw.get("formula"):
        problem = "needs code, a known group, name and formula"
    elif raw.get("reason") is None:
        unknown = [n for n in [*raw.get("numerator", []), *raw.get("denominator", [])] if n not in COUNTS]
        if unknown or not raw.get("denominator") or not (raw.get("numerator") or raw.get("average")):
            problem = f"needs a denominator and a numerator (or average) among the counts; unknown: {unknown}"
        elif raw.get("average") not in (None, "resolved_days"):
            problem = "average can only be resolved_days"
        elif float(raw.get("threshold", 1.0)) <= 0:
            problem = "threshold must be above 0"
    if problem:
        raise ValueError(f"{where}: indicator {code or '?'} {problem}")
    return Spec(code=code, group=raw["group"], name=raw["name"], max=float(raw.get("max", 0)), formula=raw["formula"],
                threshold=float(raw.get("threshold", 1.0)), numerator=tuple(raw.get("numerator", ())),
                denominator=tuple(raw.get("denominator", ())), average=raw.get("average"), reason=raw.get("reason"),
                unverified=raw.get("unverified"), api=raw.get("api"))


@functools.lru_cache(maxsize=8)
def _load(path: Path, _mtime: float) -> Config:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = raw.get("rules", {})
    if rules.get("due", "appointment") not in ("appointment", "extended"):
        raise ValueError(f"{path}: rules.due is 'appointment' or 'extended'")
    groups = tuple((str(g["code"]), g["name"], float(g["max"])) for g in raw.get("group", []))
    indicators = tuple(_spec(i, {g[0] for g in groups}, path) for i in raw.get("indicator", []))
    return Config(path=path, due=rules.get("due", "appointment"), max_supplements=int(rules.get("max_supplements", 1)),
                  eligible_levels=tuple(rules.get("eligible_levels", ["toan-trinh"])), groups=groups,
                  indicators=indicators)


def load_config(path: Path | None = None) -> Config:
    """The configuration in ``path`` (the committed one by default), read again when the file changes."""
    path = Path(path or DEFAULT_CONFIG)
    return _load(path, path.stat().st_mtime)


def points(ratio: float, threshold: float, maximum: float) -> float:
    """The threshold rule: ``maximum`` at ``ratio >= threshold``, else ``ratio / threshold × maximum``."""
    return maximum if ratio >= threshold else ratio / threshold * maximum


@dataclass(frozen=True)
class Result:
    """An indicator's figures for a period: the counts it is made of, its ratio (or mean) and points."""

    spec: Spec
    numerator: float | None = None
    denominator: int | None = None
    ratio: float | None = None
    points: float | None = None
    mean: float | None = None


def score(spec: Spec, counts: dict[str, float]) -> Result:
    """The indicator's figures from the period's counts (no points for an empty denominator)."""
    if not spec.computable:
        return Result(spec)
    denominator = int(sum(counts[n] for n in spec.denominator))
    if spec.average:
        return Result(spec, counts[spec.average], denominator, mean=counts[spec.average] / denominator
                      if denominator else None)
    numerator = int(sum(counts[n] for n in spec.numerator))
    if not denominator:
        return Result(spec, numerator, 0)
    ratio = numerator / denominator
    return Result(spec, numerator, denominator, ratio, points(ratio, spec.threshold, spec.max) if spec.max else None)


def procedure_facts(session: Session, levels: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The catalogue's procedure codes at one of ``levels`` (eligible for indicator 3), and those whose application
    form requires an uploaded file (a dossier submitted online for them carries electronic components)."""
    eligible, files = [], []
    for procedure in catalogue.procedures(session):
        if procedure.entry.get("level") in levels:
            eligible.append(procedure.code)
        if _requires_file(catalogue.start_form(session, procedure) or {}):
            files.append(procedure.code)
    return tuple(sorted(eligible)), tuple(sorted(files))


def _requires_file(schema: dict[str, Any]) -> bool:
    required = set(schema.get("required", []))
    for name, field_schema in (schema.get("properties") or {}).items():
        if not isinstance(field_schema, dict):
            continue
        if name in required and (field_schema.get("x-ui") or {}).get("widget") == "file":
            return True
        if field_schema.get("type") == "object" and name in required and _requires_file(field_schema):
            return True
    return False


def scope_for(session: Session, config: Config, agencies: tuple[str, ...] | None) -> Scope:
    """How the dossiers of ``agencies`` (None: all) are judged under ``config``."""
    eligible, files = procedure_facts(session, config.eligible_levels)
    return Scope(agencies=agencies, due=config.due, max_supplements=config.max_supplements, eligible_codes=eligible,
                 file_codes=files)


def effective_end(period: Period, now: dt.datetime) -> dt.datetime:
    """Where the period's figures stop: its end, or now for the current period."""
    return min(period.end, now)


@dataclass
class Dashboard:
    """Everything the dashboard shows for an agency scope and a period."""

    period: Period
    end: dt.datetime
    counts: dict[str, float]
    results: list[Result]
    groups: list[dict[str, Any]]
    trend: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> tuple[float, float]:
        """Points earned and the maximum of the indicators that have points (computable and not empty)."""
        scored = [r for r in self.results if r.points is not None]
        return sum(r.points for r in scored), sum(r.spec.max for r in scored)


def _groups(config: Config, results: list[Result]) -> list[dict[str, Any]]:
    out = []
    for code, name, maximum in config.groups:
        mine = [r for r in results if r.spec.group == code]
        scored = [r for r in mine if r.points is not None]
        out.append({"code": code, "name": name, "max": maximum, "points": sum(r.points for r in scored),
                    "scoredMax": sum(r.spec.max for r in scored),
                    "uncomputedMax": sum(r.spec.max for r in mine if not r.spec.computable)})
    return out


def _assemble(config: Config, period: Period, end: dt.datetime, counts: dict[str, float]) -> Dashboard:
    results = [score(spec, counts) for spec in config.indicators]
    return Dashboard(period, end, counts, results, _groups(config, results))


def indicators(session: Session, config: Config, scope: Scope, period: Period, now: dt.datetime) -> Dashboard:
    """The period's counts and indicators, without the trend and ratings (for the CSV)."""
    end = effective_end(period, now)
    return _assemble(config, period, end, indicator_queries.counts(session, scope, period.start, end))


def _month_row(month: Period, figures: dict[str, float]) -> dict[str, Any]:
    on_time = figures["finished_on_time"] + figures["open_on_time"]
    return {"period": month, **{k: figures[k] for k in ("processed", "finished_on_time", "finished_late",
                                                        "open_on_time", "open_overdue")},
            "onTime": on_time, "ratio": on_time / figures["processed"] if figures["processed"] else None}


def dashboard(session: Session, config: Config, scope: Scope, period: Period, now: dt.datetime | None = None
              ) -> Dashboard:
    """The indicators of the period, indicator 2.1's on-time rate in each of the :data:`TREND_MONTHS` months up to
    its end, and the ratings given in it per agency. The period and the months are read in one pass over their
    dossiers (:func:`engine.indicator_queries.cube`)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    end = effective_end(period, now)
    if end <= period.start:  # a period still to come: nothing to count, no trend
        return indicators(session, config, scope, period, now)
    months = indicator_periods.trend_months(end, TREND_MONTHS)
    bounds = sorted({m.start for m in months} | {period.start, end})
    groups = indicator_queries.cube(session, scope, bounds)
    at = {moment: k for k, moment in enumerate(bounds)}
    found = _assemble(config, period, end, indicator_queries.figures(groups, at[period.start], at[end]))
    found.trend = [_month_row(m, indicator_queries.figures(groups, at[m.start], at.get(m.end, at[end])))
                   for m in months]
    found.ratings = indicator_ratings.by_agency(session, scope, period.start, end)
    return found
