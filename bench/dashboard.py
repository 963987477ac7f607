"""The Decision 766 dashboard's latency (``/dieu-hanh/chi-so-766``, its CSV, a drill-down and the comparison of
agencies ``/dieu-hanh/chi-so-766/so-sanh`` with its CSV), through Flask's test client signed in as a manager, on
PostgreSQL — with a thousand dossiers (the baseline), then with 1,000,000 without the indexes of migration 0020,
then with them.

    python bench/dashboard.py [--dossiers 1000000] [--requests 100] [--quick]

The dossiers are rows seeded in SQL (generate_series): eight agencies of unequal size (three of them under a fourth,
so the comparison has a parent row), the five procedures and their
deadlines, 24 months of receipts in office hours with a growing online share, refusals, withdrawals, stops, late and
on-time results, dossiers still open (a few for months), supplement requests, fees paid online or not, ratings (a few
unhappy) and the desk officers' history events a rating is attributed by. Each choice (agency, period) is asked
``--requests`` times after a warm-up; prints p50/p95 per choice and run, the ratios, and as the last line one JSON
object. Aim: p95 under 500 ms at 1,000,000 dossiers. ``--quick`` is a small run for tests.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (ROOT, PgSchema, aim_fields, analyze, close_client, drop_indexes, latency_table,  # noqa: E402
                          measure_pages, migrate_and_deploy, page_bench_arguments, signed_in_client)

FOLDERS = ("birth-registration", "certified-copy", "household-business", "criminal-record", "construction-permit")
DAYS = (2, 2, 5, 14, 21)  # calendar days to the appointment, per procedure (their deadlines, roughly)
AGENCIES = (("000.00.00.H56", 0.30), ("000.00.16.H56", 0.20), ("000.00.05.H56", 0.12), ("000.00.12.H56", 0.10),
            ("000.00.21.H56", 0.10), ("000.00.23.H56", 0.08), ("000.00.30.H56", 0.06), ("000.00.41.H56", 0.04))
PARENTS = {"000.00.23.H56": "000.00.16.H56", "000.00.30.H56": "000.00.16.H56", "000.00.41.H56": "000.00.16.H56"}
MANAGER, PASSWORD = "quan-ly-bench", "mat-khau-bench"
INDEXES_0020 = {"dossier": ("ix_dossier_received_at", "ix_dossier_agency_received_at", "ix_dossier_unresolved",
                            "ix_dossier_long_resolved"),
                "dossier_rating": ("ix_dossier_rating_agency_rated_at", "ix_dossier_rating_dissatisfied")}
TINY = 1_000
AIM_P95_MS = 500
VIETNAM = dt.timezone(dt.timedelta(hours=7))
ALL_0020 = [name for names in INDEXES_0020.values() for name in names]


def prepare(url: str) -> None:
    """Migrate, deploy the five procedures, add the agencies and the bench manager."""
    from engine import accounts, agencies, db
    from engine.deployment import collect_files
    for folder in FOLDERS:  # one deployment each: they share the apology subprocess
        migrate_and_deploy(url, collect_files([ROOT / "processes" / folder]))
    engine = db.make_engine(url)
    with db.transaction(db.make_session_factory(engine)) as s:
        for k, (code, _) in enumerate(AGENCIES):
            agencies.add_agency(s, code, f"Ủy ban nhân dân xã số {k + 1}", PARENTS.get(code))
        accounts.add(s, MANAGER, PASSWORD, groups=["manager"])
    engine.dispose()


def _procedures(c) -> list[tuple]:
    """(index, definition id, process key, code, name, fee) of the five deployed procedures."""
    import sqlalchemy as sa
    found = []
    for k, folder in enumerate(FOLDERS):
        entry = tomllib.loads((ROOT / "processes" / folder / "procedure.toml").read_text())
        definition = c.execute(sa.text("SELECT id FROM process_definition WHERE key = :k ORDER BY version DESC "
                                       "LIMIT 1"), {"k": entry["process_key"]}).scalar_one()
        found.append((k, definition, entry["process_key"], entry["code"], entry["name"], int(entry.get("fee") or 0),
                      DAYS[k]))
    return found


def _values(rows: list[tuple]) -> str:
    """A VALUES list of literal rows (our own constants only)."""
    def lit(v):
        return str(v) if isinstance(v, (int, float)) else "'" + str(v).replace("'", "''") + "'"
    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _agency_case() -> str:
    """The agency index of a uniform random ``ra`` by the agencies' shares."""
    cumulative, parts = 0.0, []
    for k, (_, share) in enumerate(AGENCIES[:-1]):
        cumulative += share
        parts.append(f"WHEN ra < {cumulative:.4f} THEN {k}")
    return f"CASE {' '.join(parts)} ELSE {len(AGENCIES) - 1} END"


SEED = """
CREATE TEMP TABLE s ON COMMIT DROP AS
WITH base AS (
    SELECT i, random() AS ra, random() AS rp, random() AS rd, random() AS rt, random() AS rc, random() AS rs,
           random() AS rx, random() AS ry, random() AS rz, random() AS rf, random() AS rr, random() AS rq
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS i),
timed AS (
    SELECT b.*, {agency} AS a, floor(rp * 5)::int AS p,
           LEAST(((date_trunc('day', CAST(:now AS timestamptz) AT TIME ZONE 'Asia/Ho_Chi_Minh')
                   - floor(rd * 730) * interval '1 day' + interval '7 hours 30 minutes' + rt * interval '9 hours')
                  AT TIME ZONE 'Asia/Ho_Chi_Minh'), CAST(:now AS timestamptz) - interval '5 minutes') AS received
    FROM base b),
shaped AS (
    SELECT t.*, pr.days, pr.fee, t.received + pr.days * interval '1 day' AS due,
           EXTRACT(EPOCH FROM (CAST(:now AS timestamptz) - t.received)) / 86400 AS age,
           CASE WHEN rq < 0.35 + 0.35 * (1 - rd) THEN 'online' ELSE 'counter' END AS channel
    FROM timed t JOIN proc pr ON pr.p = t.p),
fated AS (
    SELECT sh.*,
           CASE WHEN rx < 0.02 THEN 'refused'
                WHEN rc < GREATEST(0, 1 - age / (days * 1.3)) OR (rc > 0.997 AND age < 400) THEN 'open'
                ELSE 'resolved' END AS fate
    FROM shaped sh)
SELECT i, '00000000-0000-4766-8000-' || lpad(to_hex(i), 12, '0') AS iid, a, p, received, due, channel, fee, fate,
       (CAST(:agencies AS text[]))[a + 1] AS agency,
       (CAST(:agencies AS text[]))[a + 1] || '-' || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD')
           || '-' || lpad(i::text, 7, '0') AS code,
       LEAST(CASE WHEN fate = 'refused' THEN received + interval '1 hour'
                  WHEN fate = 'resolved' AND ry < 0.86 THEN received + (0.2 + 0.75 * rz) * (due - received)
                  WHEN fate = 'resolved' THEN due + rz * interval '8 days' END,
             CAST(:now AS timestamptz) - interval '1 minute') AS resolved,
       CASE WHEN fate = 'refused' THEN 3
            WHEN fate = 'open' THEN CASE WHEN rs < 0.10 THEN 2 WHEN rs < 0.20 THEN 5 WHEN rs < 0.30 AND fee > 0
                                         THEN 6 ELSE 4 END
            WHEN rs < 0.04 THEN 7 WHEN rs < 0.06 THEN 8
            WHEN rs < 0.08 AND received > CAST(:now AS timestamptz) - interval '30 days' THEN 9 ELSE 10 END AS status,
       CASE WHEN rf < 0.08 THEN 1 WHEN rf < 0.09 THEN 2 ELSE 0 END AS supplements,
       rr, rz, rs
FROM fated
"""

INSERTS = (
    """INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
           variables, open_incidents, started_by, started_at, updated_at, ended_at)
       SELECT s.iid, pr.def, pr.pkey, s.code, CASE WHEN s.fate = 'open' OR s.status = 9 THEN 'active'
              ELSE 'completed' END, '{}', 5, '{}', 0, 'portal', s.received, s.received,
              CASE WHEN s.fate = 'open' OR s.status = 9 THEN NULL ELSE s.resolved END
       FROM s JOIN proc pr ON pr.p = s.p""",
    """INSERT INTO dossier (instance_id, code, procedure_code, channel, deadline_unit, deadline_amount, clock_rule,
           submitted_at, received_at, due_at, paused_at, pauses, finished_at, delivered_at, warn_hours, status,
           status_at, owner_id, agency, procedure_name, applicant_name, supplement_requests, supplements_allowed,
           resolved_at, resolved_days, fee_requested_at, paid_online_at, dissatisfied_at)
       SELECT s.iid, s.code, pr.pcode, s.channel, 'days', pr.days, 'pause', s.received, s.received, s.due,
              CASE WHEN s.status = 5 THEN s.received + (s.due - s.received) * s.rz END, '[]',
              CASE WHEN s.fate <> 'open' AND s.status <> 9 THEN s.resolved END,
              CASE WHEN s.status = 10 THEN s.resolved END, 4, s.status, COALESCE(s.resolved, s.received),
              lpad((1000000 + s.i % 700000)::text, 12, '0'), s.agency, pr.pname, 'Người nộp ' || s.i,
              s.supplements, GREATEST(1, s.supplements), s.resolved,
              EXTRACT(EPOCH FROM (s.resolved - s.received)) / 86400,
              CASE WHEN s.fee > 0 AND s.fate <> 'refused' THEN s.received + interval '2 hours' END,
              CASE WHEN s.fee > 0 AND s.fate <> 'refused' AND s.status <> 6 AND s.rr < 0.82
                   THEN s.received + interval '140 minutes' END,
              CASE WHEN s.status = 10 AND s.rr > 0.7 AND s.rz < 0.06
                   THEN LEAST(s.resolved + s.rs * interval '3 days', CAST(:now AS timestamptz)) END
       FROM s JOIN proc pr ON pr.p = s.p""",
    """INSERT INTO payment_order (txn_ref, instance_id, business_key, amount_vnd, order_info, status, message_name,
           paid_at, created_at, settled_at)
       SELECT 'BENCH' || s.i, s.iid, s.code, s.fee, 'Thanh toan le phi ho so ' || s.code, 'paid', 'payment_received',
              s.received + interval '140 minutes', s.received + interval '2 hours', s.received + interval '141 minutes'
       FROM s WHERE s.fee > 0 AND s.fate <> 'refused' AND s.status <> 6 AND s.rr < 0.82""",
    """INSERT INTO dossier_rating (instance_id, code, procedure_code, agency, answers, score, rated_at)
       SELECT s.iid, s.code, pr.pcode, s.agency,
              '{"tieu_chi_1": 2, "tieu_chi_3": 2, "tieu_chi_4": 2, "tieu_chi_5": 2, "tieu_chi_7": '
                  || CASE WHEN s.rz < 0.06 THEN '0' ELSE '2' END || ', "tieu_chi_10": 1, "tieu_chi_11": '
                  || CASE WHEN s.rz < 0.06 THEN '0' WHEN s.rz < 0.5 THEN '1' ELSE '2' END || '}',
              CASE WHEN s.rz < 0.06 THEN 9 WHEN s.rz < 0.5 THEN 12 ELSE 13 END,
              LEAST(s.resolved + s.rs * interval '3 days', CAST(:now AS timestamptz))
       FROM s JOIN proc pr ON pr.p = s.p WHERE s.status = 10 AND s.rr > 0.7""",
    """INSERT INTO history_event (instance_id, at, kind, activity_id, activity_name, activity_type, user_id)
       SELECT s.iid, s.received + interval '30 minutes', 'task_completed', 'tiep_nhan', 'Kiểm tra, tiếp nhận hồ sơ',
              'userTask', 'cb-' || s.a || '-' || (1 + s.i % 4)
       FROM s WHERE s.status = 10 AND s.rr > 0.7
       UNION ALL
       SELECT s.iid, s.resolved, 'task_completed', 'tra_ket_qua', 'Trả kết quả cho công dân', 'userTask',
              'cb-' || s.a || '-' || (1 + (s.i / 4) % 4)
       FROM s WHERE s.status = 10 AND s.rr > 0.7""",
)


def seed(url: str, first: int, last: int, now: dt.datetime) -> None:
    """Dossiers ``first`` to ``last`` (and their instances, payments, ratings and history), in one transaction."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    agencies = [code for code, _ in AGENCIES]
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TEMP TABLE proc (p int, def text, pkey text, pcode text, pname text, fee int, "
                          f"days int) ON COMMIT DROP; INSERT INTO proc VALUES {_values(_procedures(c))}"))
        c.execute(sa.text("SELECT setseed(:seed)"), {"seed": (first % 1000) / 1000})
        c.execute(sa.text(SEED.format(agency=_agency_case())), {"first": first, "last": last, "now": now,
                                                                 "agencies": agencies})
        for statement in INSERTS:
            c.execute(sa.text(statement), {"now": now})
    engine.dispose()




def create_indexes(url: str) -> float:
    """Build migration 0020's indexes as the models define them; return the seconds it took."""
    import sqlalchemy as sa

    from engine.citizen_models import DossierRating
    from engine.models import Dossier
    engine = sa.create_engine(url)
    started = time.perf_counter()
    with engine.begin() as c:
        for model in (Dossier, DossierRating):
            for index in model.__table__.indexes:
                if index.name in INDEXES_0020[model.__tablename__]:
                    index.create(c)
    engine.dispose()
    return round(time.perf_counter() - started, 1)



def choices(now: dt.datetime) -> dict[str, str]:
    """The requests measured: a few agencies and periods, the CSV, a drill-down and the comparison of agencies."""
    local = now.astimezone(VIETNAM)
    month, quarter, year = f"{local:%Y-%m}", f"{local.year}-Q{(local.month - 1) // 3 + 1}", str(local.year - 1)
    last = (local.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    big, small = AGENCIES[0][0], AGENCIES[-1][0]
    return {"all_this_month": f"/dieu-hanh/chi-so-766?ky={month}",
            "all_last_year": f"/dieu-hanh/chi-so-766?ky={year}",
            "largest_this_quarter": f"/dieu-hanh/chi-so-766?ky={quarter}&co_quan={big}",
            "smallest_last_month": f"/dieu-hanh/chi-so-766?ky={last}&co_quan={small}",
            "csv_all_this_quarter": f"/dieu-hanh/chi-so-766.csv?ky={quarter}",
            "drill_down_largest_last_month": f"/dieu-hanh/chi-so-766/ho-so?so_lieu=finished_late&ky={last}"
                                             f"&co_quan={big}",
            "compare_this_month": f"/dieu-hanh/chi-so-766/so-sanh?ky={month}",
            "compare_last_year": f"/dieu-hanh/chi-so-766/so-sanh?ky={year}&sap_xep=2.1&chieu=tang",
            "compare_csv_this_quarter": f"/dieu-hanh/chi-so-766/so-sanh.csv?ky={quarter}"}


def measure(client, urls: dict[str, str], requests_n: int) -> dict:
    """p50/p95 in milliseconds of each choice over ``requests_n`` requests (after a few to warm up)."""
    return measure_pages(client, urls, requests_n)


def main() -> None:
    args = page_bench_arguments(__doc__, {"dossiers": (1_000_000, 20_000, "dossiers in the large run")},
                                (100, 5, "requests per choice and run"))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    pg = PgSchema()
    try:
        prepare(pg.url)
        drop_indexes(pg.url, ALL_0020)  # bulk loads go faster without them; they are built after each load
        seed(pg.url, 1, TINY, now)
        create_indexes(pg.url)
        analyze(pg.url)
        urls = choices(now)
        with tempfile.TemporaryDirectory() as var_dir:
            from webapp.console import dashboard_pages
            dashboard_pages._now = lambda: now  # the app's clock at the seeded "now"
            client = signed_in_client(pg.url, Path(var_dir), MANAGER, PASSWORD)
            results = {"tiny": measure(client, urls, args.requests)}
            drop_indexes(pg.url, ALL_0020)
            started = time.perf_counter()
            seed(pg.url, TINY + 1, args.dossiers, now)
            analyze(pg.url)
            seeded = round(time.perf_counter() - started, 1)
            print(f"seeded {args.dossiers} dossiers in {seeded} s", flush=True)
            results["large_without_0020_indexes"] = measure(client, urls, max(args.requests // 10, 3))
            built = create_indexes(pg.url)
            analyze(pg.url)
            print(f"built the 0020 indexes in {built} s", flush=True)
            results["large"] = measure(client, urls, args.requests)
            close_client(client)
        report(args, results, seeded, built, sizes(pg.url))
    finally:
        pg.drop()


def sizes(url: str) -> dict[str, int]:
    """Rows per table the dashboard reads."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as c:
        found = {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("dossier", "payment_order", "dossier_rating", "history_event")}
    engine.dispose()
    return found


def report(args, results: dict, seeded: float, built: float, rows: dict[str, int]) -> None:
    """The table, the ratios, and the JSON line."""
    heads = {"tiny": f"{TINY} dossiers", "large_without_0020_indexes": "large, no 0020 indexes", "large": "large"}
    ratio, gain = latency_table(results, heads, "tiny", "large_without_0020_indexes", "0020", 32)
    print(json.dumps({"benchmark": "dashboard", "dossiers": args.dossiers, "requests": args.requests, "rows": rows,
                      "seed_seconds": seeded, "index_seconds": built, **results,
                      **aim_fields(results, ratio, gain, AIM_P95_MS, "tiny")}))


if __name__ == "__main__":
    main()
