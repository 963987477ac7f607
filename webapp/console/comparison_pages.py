"""The Decision 766 comparison of agencies (``/dieu-hanh/chi-so-766/so-sanh``): for a period, one row per agency
(its child agencies below it) with each computable indicator and the total score, sortable by any column, every
figure linking to the dossiers behind it, a bar chart of the totals and the table as CSV.

A manager whose account names an agency sees that agency's row only, as on the dashboard.
"""
from __future__ import annotations

from flask import request

from engine import indicator_comparison, indicator_export, indicators766
from engine.indicator_comparison import NAME, TOTAL, Comparison, Row
from webapp.console import MANAGER, blueprint, charts, page, role_required
from webapp.console import dashboard_pages as board  # the dashboard's choice of period, its clock, its CSV
from webapp.database import session as db_session

TEMPLATE = "console/dashboard_compare.html"
DESCENDING, ASCENDING = "giam", "tang"


def _sort(config: indicators766.Config) -> tuple[str, bool]:
    """The column and direction asked for (``sap_xep``, ``chieu``): by total, highest first, by default."""
    key = request.args.get("sap_xep", TOTAL)
    if key not in indicator_comparison.sort_keys(config):
        key = TOTAL
    direction = request.args.get("chieu")
    return key, (direction != ASCENDING if direction in (ASCENDING, DESCENDING) else key != NAME)


def _row_args(row: Row, period_key: str) -> dict[str, str] | None:
    """The address arguments of the dashboard and drill-down of a row's dossiers (None: no page shows them)."""
    if row.kind == "none":
        return None
    args = {"ky": period_key}
    if row.code:
        args["co_quan"] = row.code
    if row.kind == "tree":
        args["truc_thuoc"] = "1"
    return args


def _headers(config: indicators766.Config, key: str, descending: bool, period_key: str) -> list[dict]:
    """Each column as shown (agency, the indicators, total, share): its label, the address that sorts by it (the
    other way round if it is the current one) and its ``aria-sort``."""
    labels = {NAME: "Cơ quan", **{s.code: f"{s.code}. {s.name}" for s in config.indicators if s.computable},
              TOTAL: "Tổng điểm", indicator_comparison.SHARE: "Tỷ lệ điểm"}
    out = []
    for column, label in labels.items():
        first = ASCENDING if column == NAME else DESCENDING
        then = (ASCENDING if descending else DESCENDING) if column == key else first
        out.append({"key": column, "label": label, "args": {"ky": period_key, "sap_xep": column, "chieu": then},
                    "sort": ("descending" if descending else "ascending") if column == key else None})
    return out


def _chart(rows: list[Row]):
    bars = [(r.code or "—", r.name, *r.total) for r in rows if r.kind in ("agency", "tree", "none") and r.total[1]]
    return charts.points_bars(bars, ident="bieu-do-so-sanh", label_w=120,
                              title="Tổng điểm các chỉ số tính được của từng cơ quan",
                              empty="Không cơ quan nào có chỉ số có điểm trong kỳ này")


def _found(db, period, now) -> tuple[Comparison, str, bool]:
    config = board._config()
    scope = indicators766.scope_for(db, config, board._allowed())
    key, descending = _sort(config)
    return indicator_comparison.compare(db, config, scope, period, now), key, descending


@blueprint.get("/chi-so-766/so-sanh")
@role_required(MANAGER)
def dashboard_compare():
    """Every agency's indicators and total score for the chosen period, side by side."""
    db, now = db_session(), board._now()
    period, _, errors = board._choice(request.args, now)
    context = board._form_context(db, period, "", now)
    if errors:
        return page(TEMPLATE, 400, errors=errors, found=None, **context)
    found, key, descending = _found(db, period, now)
    rows = found.ordered(key, descending)
    sort_args = {"sap_xep": key, "chieu": DESCENDING if descending else ASCENDING}
    every = [*rows, *([found.total] if found.total else [])]
    return page(TEMPLATE, errors={}, found=found, rows=rows, row_args={r.key: _row_args(r, period.key) for r in every},
                headers=_headers(board._config(), key, descending, period.key), chart=_chart(rows),
                sort_args=sort_args, csv_args={**context["args"], **sort_args}, current=found.end < period.end,
                **context)


@blueprint.get("/chi-so-766/so-sanh.csv")
@role_required(MANAGER)
def dashboard_compare_csv():
    """The comparison table, in the order shown, as CSV (the total last)."""
    db, now = db_session(), board._now()
    period, _, errors = board._choice(request.args, now)
    if errors:
        return page(TEMPLATE, 400, errors=errors, found=None, **board._form_context(db, period, "", now))
    found, key, descending = _found(db, period, now)
    rows = found.ordered(key, descending) + ([found.total] if found.total else [])
    name = f"so-sanh-chi-so-766_{period.key.replace('..', '_')}"
    return board._csv("".join(indicator_export.comparison_rows(found, rows)), name)
