"""The Decision 766 dashboard for managers (``/dieu-hanh/chi-so-766``): the indicators of an agency (or all) for a
period, their formulas in words, charts drawn on the server, the dossiers behind every figure, CSV files, and the
citizens' ratings per agency and per officer.

A manager whose account names an agency sees that agency only; a manager without one (the province) and the
administrators see any agency or all of them.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, g, request

from engine import agencies as agency_admin
from engine import catalogue, indicator_comparison, indicator_export, indicator_periods, indicator_queries
from engine import indicator_ratings, indicators766
from engine.dossiers import STATUSES
from engine.errors import BadInput
from engine.indicator_periods import Period
from webapp.console import ADMIN, MANAGER, blueprint, charts, page, role_required
from webapp.database import session as db_session
from webapp.database import state

PAGE = 50  # dossiers per page of a drill-down


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _config() -> indicators766.Config:
    return indicators766.load_config(state().settings.indicators_766_config)


def _allowed() -> tuple[str, ...] | None:
    """The agencies the signed-in manager may look at (None: every one)."""
    officer = g.officer
    return None if ADMIN in officer.groups or not officer.agency else (officer.agency,)


def _agency_names(db, allowed: tuple[str, ...] | None) -> dict[str, str]:
    """Agencies to choose from: the defined ones and those of the catalogue's procedures, by code."""
    names = {p.entry["agency"]: p.entry.get("agency_name") or p.entry["agency"]
             for p in catalogue.procedures(db) if p.entry.get("agency")}
    names.update({a["code"]: a["name"] for a in agency_admin.agencies(db)})
    if allowed is not None:
        names = {code: names.get(code, code) for code in allowed}
    return dict(sorted(names.items()))


def _choice(args, now: dt.datetime) -> tuple[Period | None, str, dict[str, str]]:
    """The period and agency the form (or a link) asks for, and the errors in it; the current month by default."""
    errors: dict[str, str] = {}
    allowed = _allowed()
    agency = (args.get("co_quan") or "").strip()[:64]
    if allowed is not None and agency not in allowed:
        agency = allowed[0]
    first, last = (args.get("tu_ngay") or "").strip(), (args.get("den_ngay") or "").strip()
    try:
        if first or last:
            if not (first and last):
                raise BadInput("Nhập cả ngày bắt đầu và ngày kết thúc")
            try:
                period = indicator_periods.days(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
            except ValueError:
                raise BadInput("Ngày phải có dạng năm-tháng-ngày") from None
        else:
            key = (args.get("ky") or "").strip()
            period = indicator_periods.parse(key) if key else indicator_periods.containing(now)
    except BadInput as err:
        errors["tu_ngay" if first or last else "ky"] = err.message
        period = None
    return period, agency, errors


def _with_children(agency: str) -> bool:
    """Whether the chosen agency's child agencies count with it (``truc_thuoc=1``, for a province manager)."""
    return bool(agency) and _allowed() is None and request.args.get("truc_thuoc") == "1"


def _scope(db, agency: str) -> indicator_queries.Scope:
    if _with_children(agency):
        chosen = indicator_comparison.with_children(db, agency)
    else:
        chosen = (agency,) if agency else _allowed()
    return indicators766.scope_for(db, _config(), chosen)


def _link_args(period: Period, agency: str) -> dict[str, str]:
    return {"ky": period.key, **({"co_quan": agency} if agency else {}),
            **({"truc_thuoc": "1"} if _with_children(agency) else {})}


def _agency_label(names: dict[str, str], agency: str) -> str:
    if not agency:
        return "Tất cả cơ quan"
    return f"{names.get(agency, agency)} ({agency})" + (" và các đơn vị trực thuộc" if _with_children(agency) else "")


def _form_context(db, period: Period | None, agency: str, now: dt.datetime) -> dict:
    allowed = _allowed()
    names = _agency_names(db, allowed)
    return {"agencies": names, "agency": agency, "all_agencies": allowed is None, "period": period,
            "choices": indicator_periods.choices(now), "agency_label": _agency_label(names, agency),
            "args": _link_args(period, agency) if period else {}, "figures": indicator_export.FIGURES,
            "with_children": _with_children(agency),
            "number": charts.number, "percent": charts.percent}


def _csv(lines, name: str) -> Response:
    return Response(lines, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _streamed(factory, write):
    """The lines ``write(session)`` yields, read in a session of their own: the request's session is closed when the
    view returns, before a streamed body is sent."""
    session = factory()
    try:
        yield from write(session)
    finally:
        session.close()


def _file_name(kind: str, period: Period, agency: str) -> str:
    suffix = "-truc-thuoc" if _with_children(agency) else ""
    return f"{kind}_{agency or 'tat-ca'}{suffix}_{period.key.replace('..', '_')}"


def _short(month: Period) -> str:
    """``T5/26``: a month as the trend's axis names it."""
    local = month.start.astimezone(indicator_periods.VIETNAM)
    return f"T{local.month}/{local:%y}"


@blueprint.get("/chi-so-766")
@role_required(MANAGER)
def dashboard():
    """The indicators of the chosen agency and period, with charts, the on-time trend and the ratings."""
    db, now = db_session(), _now()
    period, agency, errors = _choice(request.args, now)
    context = _form_context(db, period, agency, now)
    if errors:
        return page("console/dashboard.html", 400, errors=errors, found=None, **context)
    found = indicators766.dashboard(db, _config(), _scope(db, agency), period, now)
    bars = charts.points_bars([(r.spec.code, r.spec.name, r.points, r.spec.max) for r in found.results
                               if r.points is not None])
    trend = charts.trend_line([(_short(m["period"]), m["ratio"]) for m in found.trend])
    return page("console/dashboard.html", found=found, bars=bars, trend=trend, errors={},
                current=found.end < period.end, **context)


@blueprint.get("/chi-so-766.csv")
@role_required(MANAGER)
def dashboard_csv():
    """The indicator table of the chosen agency and period as CSV."""
    db, now = db_session(), _now()
    period, agency, errors = _choice(request.args, now)
    if errors:
        return page("console/dashboard.html", 400, errors=errors, found=None, **_form_context(db, period, agency, now))
    found = indicators766.indicators(db, _config(), _scope(db, agency), period, now)
    label = _agency_label(_agency_names(db, _allowed()), agency)
    return _csv("".join(indicator_export.indicator_rows(found, label)), _file_name("chi-so-766", period, agency))


def _figure() -> str:
    name = request.args.get("so_lieu", "")
    if name not in indicator_queries.COUNTS:
        raise BadInput("Không có số liệu này")
    return name


def _figure_choice(now):
    """The period, agency and figure a drill-down asks for, with the errors of each."""
    period, agency, errors = _choice(request.args, now)
    name = None
    try:
        name = _figure()
    except BadInput as err:
        errors["so_lieu"] = err.message
    return period, agency, name, errors


@blueprint.get("/chi-so-766/ho-so")
@role_required(MANAGER)
def dashboard_dossiers():
    """The dossiers behind one figure of the dashboard, a page at a time."""
    db, now = db_session(), _now()
    period, agency, name, errors = _figure_choice(now)
    context = _form_context(db, period, agency, now)
    if errors:
        return page("console/dashboard_dossiers.html", 400, errors=errors, rows=[], name=None, **context)
    scope, end = _scope(db, agency), indicators766.effective_end(period, now)
    total = indicator_queries.counts(db, scope, period.start, end)[name]
    page_number = max(request.args.get("trang", 1, type=int) or 1, 1)
    rows = list(indicator_queries.dossiers(db, scope, period.start, end, name, (page_number - 1) * PAGE, PAGE))
    return page("console/dashboard_dossiers.html", errors={}, rows=rows, name=name, total=total,
                page_number=page_number, pages=max((total + PAGE - 1) // PAGE, 1), channels=indicator_export.CHANNELS,
                statuses=STATUSES, end=end, **context)


@blueprint.get("/chi-so-766/ho-so.csv")
@role_required(MANAGER)
def dashboard_dossiers_csv():
    """Every dossier behind one figure as CSV."""
    db, now = db_session(), _now()
    period, agency, name, errors = _figure_choice(now)
    if errors:
        return page("console/dashboard_dossiers.html", 400, errors=errors, rows=[], name=None,
                    **_form_context(db, period, agency, now))
    scope, end = _scope(db, agency), indicators766.effective_end(period, now)

    def write(session):
        rows = indicator_queries.dossiers(session, scope, period.start, end, name, 0, None)
        return indicator_export.dossier_rows(rows)
    return _csv(_streamed(state().factory, write), _file_name(f"ho-so_{name}", period, agency))


@blueprint.get("/chi-so-766/danh-gia")
@role_required(MANAGER)
def dashboard_ratings():
    """The citizens' ratings given in the period, per agency and per officer of the one-stop desk."""
    db, now = db_session(), _now()
    period, agency, errors = _choice(request.args, now)
    context = _form_context(db, period, agency, now)
    if errors:
        return page("console/dashboard_ratings.html", 400, errors=errors, agencies_rated=[], officers=[], **context)
    scope, end = _scope(db, agency), indicators766.effective_end(period, now)
    return page("console/dashboard_ratings.html", errors={},
                agencies_rated=indicator_ratings.by_agency(db, scope, period.start, end),
                officers=indicator_ratings.by_officer(db, scope, period.start, end),
                max_score=indicator_ratings.MAX_SCORE, **context)
