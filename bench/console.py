"""The operations console on a large history: a version's page with its heatmap (``/dieu-hanh/quy-trinh/<id>
?xem=nhiet``: median and p90 per element from ``history_event``), the same page with tokens and incidents, and
``GET /metrics``, through Flask's test client (signed in as an analyst; /metrics from this host), on PostgreSQL —
first on a small data set (the baseline), then with 1,000,000 history events, then without the indexes of
migration 0021.

    python bench/console.py [--instances 50000] [--external-tasks 100000] [--requests 60] [--quick]

Rows are seeded in SQL (generate_series): ``--instances`` instances of the birth registration over two years, nine
of its steps each started and completed (20 events a finished instance), a tenth of them still running and waiting
at an officer's step (an open user task), some with an incident; and ``--external-tasks`` running criminal-record
instances, each waiting for a worker at a service task over five topics (a tenth locked by a worker), some out of
retries with an incident. The baseline is a hundredth of that. Each page is asked ``--requests`` times after a
warm-up; prints p50/p95 per page and run, the ratios, and as the last line one JSON object. Aim: p95 under 200 ms
at full size. ``--quick`` is a small run for tests.
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

HEAT, BACKLOG = "birth-registration", "criminal-record"
# the birth registration's steps a finished dossier goes through: id, type, typical seconds there, an officer's step
STEPS = (("tra_cuu_dan_cu", "serviceTask", 4, False), ("tiep_nhan", "userTask", 3 * 3600, True),
         ("phieu_tiep_nhan", "serviceTask", 6, False), ("tao_thanh_toan", "serviceTask", 2, False),
         ("tham_dinh", "userTask", 20 * 3600, True), ("phe_duyet", "userTask", 5 * 3600, True),
         ("ban_hanh_ket_qua", "serviceTask", 9, False), ("tb_co_ket_qua", "serviceTask", 1, False),
         ("tra_ket_qua", "userTask", 30 * 3600, True))
# the criminal record's service tasks a backlog waits at: id, topic
WAITS = (("tra_cuu_dan_cu", "population-lookup"), ("kiem_tra_chu_ky", "esign-verify"),
         ("yeu_cau_cong_an", "lien-thong-cong-an"), ("phieu_tiep_nhan", "document"), ("tb_tiep_nhan", "notify"))
ANALYST, PASSWORD = "phan-tich-bench", "mat-khau-bench"
INDEXES_0021 = ("ix_history_event_completed", "ix_history_event_started")
SCALE = 100  # the baseline is this many times smaller
AIM_P95_MS = 200


def prepare(url: str) -> dict[str, str]:
    """Migrate, deploy the two procedures, add the analyst; the definition id of each."""
    import sqlalchemy as sa

    from engine import accounts, db
    from engine.deployment import collect_files
    keys = {}
    for folder in (HEAT, BACKLOG):  # one deployment each: they share the apology subprocess
        migrate_and_deploy(url, collect_files([ROOT / "processes" / folder]))
        keys[folder] = tomllib.loads((ROOT / "processes" / folder / "procedure.toml").read_text())["process_key"]
    engine = db.make_engine(url)
    with db.transaction(db.make_session_factory(engine)) as s:
        accounts.add(s, ANALYST, PASSWORD, groups=["analyst"])
        found = {folder: s.execute(sa.text("SELECT id FROM process_definition WHERE key = :k"), {"k": key}).scalar_one()
                 for folder, key in keys.items()}
    engine.dispose()
    return found


def _values(rows) -> str:
    """A VALUES list of literal rows (our own constants only)."""
    def lit(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v) if isinstance(v, (int, float)) else "'" + str(v).replace("'", "''") + "'"
    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


HISTORY = """
INSERT INTO history_event (instance_id, at, kind, activity_id, activity_name, activity_type, task_id, user_id)
SELECT iid, at, kind, activity_id, activity_name, activity_type, task_id, user_id FROM (
    SELECT h.iid, h.started AS at, 'instance_started' AS kind, NULL AS activity_id, NULL AS activity_name,
           NULL AS activity_type, NULL AS task_id, 'portal' AS user_id FROM h
    UNION ALL
    SELECT h.iid, h.started + st.e * interval '2 days', 'activity_started', st.id, st.id, st.type,
           md5(h.iid || st.id)::uuid::text, NULL
    FROM h JOIN st ON st.e <= h.reached
    UNION ALL
    SELECT h.iid, h.started + st.e * interval '2 days'
                  + LEAST(st.typical * (0.3 + 2 * random() * random()), 170000) * interval '1 second',
           'activity_completed', st.id, st.id, st.type, md5(h.iid || st.id)::uuid::text,
           CASE WHEN st.officer THEN 'cb-' || (h.i % 20) END
    FROM h JOIN st ON st.e < h.reached
    UNION ALL
    SELECT h.iid, h.started + 9 * interval '2 days', 'instance_completed', NULL, NULL, NULL, NULL, NULL
    FROM h WHERE h.reached = 9) x
ORDER BY at"""


def seed_history(url: str, definition: str, first: int, last: int, total: int, now: dt.datetime) -> None:
    """Instances ``first`` to ``last`` of ``total`` of the heatmap's definition (every tenth running), spread over two
    years, oldest first, with their history, open user tasks and a few incidents."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TEMP TABLE st (e int, id text, type text, typical float, officer bool) "
                          f"ON COMMIT DROP; INSERT INTO st VALUES "
                          f"{_values((k, *step) for k, step in enumerate(STEPS))}"))
        c.execute(sa.text("SELECT setseed(:s)"), {"s": (first % 1000) / 1000})
        # a running instance has completed the steps before an officer's step it waits at
        c.execute(sa.text("""
            CREATE TEMP TABLE h ON COMMIT DROP AS
            SELECT i, '00000000-0000-4c00-8000-' || lpad(to_hex(i), 12, '0') AS iid,
                   CAST(:now AS timestamptz) - (CAST(:total AS int) - i + 10) * interval '20 minutes' AS started,
                   CASE WHEN i % 10 = 0 THEN (ARRAY[1, 4, 5, 8])[1 + (i / 10) % 4] ELSE 9 END AS reached
            FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i"""),
                  {"first": first, "last": last, "total": total, "now": now})
        c.execute(sa.text("""
            INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
                variables, open_incidents, started_by, started_at, updated_at, ended_at)
            SELECT h.iid, :d, 'dang_ky_khai_sinh', 'KS-' || h.i, CASE WHEN h.reached = 9 THEN 'completed'
                   ELSE 'active' END, '{}', 20, '{}', CASE WHEN h.reached < 9 AND h.i % 100 = 0 THEN 1 ELSE 0 END,
                   'portal', h.started, h.started, CASE WHEN h.reached = 9 THEN h.started + interval '18 days' END
            FROM h"""), {"d": definition})
        c.execute(sa.text(HISTORY))
        c.execute(sa.text("""
            INSERT INTO user_task (id, instance_id, definition_id, process_key, business_key, activity_id, name,
                candidate_groups, candidate_users, priority, created_at, suspended)
            SELECT md5(h.iid || st.id)::uuid::text, h.iid, :d, 'dang_ky_khai_sinh', 'KS-' || h.i, st.id, st.id,
                   'mot-cua', '', 50, h.started + st.e * interval '2 days', false
            FROM h JOIN st ON st.e = h.reached WHERE h.reached < 9"""), {"d": definition})
        c.execute(sa.text("""
            INSERT INTO incident (id, instance_id, task_id, activity_id, kind, message, created_at)
            SELECT md5('incident' || h.iid)::uuid::text, h.iid, md5(h.iid || st.id)::uuid::text, st.id,
                   'failedExpression', 'Biểu thức lỗi (bench)', h.started + st.e * interval '2 days'
            FROM h JOIN st ON st.e = h.reached WHERE h.reached < 9 AND h.i % 100 = 0"""))
    engine.dispose()


def seed_backlog(url: str, definition: str, first: int, last: int, now: dt.datetime) -> None:
    """Running criminal-record instances ``first`` to ``last``, each waiting for a worker at a service task (a tenth
    locked, one in two hundred out of retries with an incident)."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TEMP TABLE w (k int, id text, topic text) ON COMMIT DROP; INSERT INTO w VALUES "
                          f"{_values((k, *wait) for k, wait in enumerate(WAITS))}"))
        c.execute(sa.text("""
            CREATE TEMP TABLE b ON COMMIT DROP AS
            SELECT i, '00000000-0000-4e00-8000-' || lpad(to_hex(i), 12, '0') AS iid, i % :waits AS k,
                   CAST(:now AS timestamptz) - (i % 5000) * interval '1 minute' AS created
            FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i"""),
                  {"first": first, "last": last, "now": now, "waits": len(WAITS)})
        c.execute(sa.text("""
            INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
                variables, open_incidents, started_by, started_at, updated_at)
            SELECT b.iid, :d, 'cap_phieu_lltp', 'LLTP-' || b.i, 'active', '{}', 3, '{}',
                   CASE WHEN b.i % 200 = 0 THEN 1 ELSE 0 END, 'portal', b.created, b.created FROM b"""),
                  {"d": definition})
        c.execute(sa.text("""
            INSERT INTO external_task (id, instance_id, definition_id, process_key, business_key, activity_id,
                activity_name, topic, priority, variables, worker_id, lock_expires_at, retries, error_message,
                suspended, created_at)
            SELECT md5('task' || b.iid)::uuid::text, b.iid, :d, 'cap_phieu_lltp', 'LLTP-' || b.i, w.id, w.id,
                   w.topic, 0, '{"citizen_id": "001099012345"}',
                   CASE WHEN b.i % 10 = 1 THEN 'worker-' || (b.i % 4) END,
                   CASE WHEN b.i % 10 = 1 THEN CAST(:now AS timestamptz) + interval '10 minutes' END,
                   CASE WHEN b.i % 200 = 0 THEN 0 WHEN b.i % 7 = 0 THEN 2 END,
                   CASE WHEN b.i % 200 = 0 THEN 'Hết thời gian chờ (bench)' END, false, b.created
            FROM b JOIN w ON w.k = b.k"""), {"d": definition, "now": now})
        c.execute(sa.text("""
            INSERT INTO incident (id, instance_id, task_id, activity_id, kind, message, created_at)
            SELECT md5('incident' || b.iid)::uuid::text, b.iid, md5('task' || b.iid)::uuid::text, w.id,
                   'failedExternalTask', 'Hết thời gian chờ (bench)', b.created
            FROM b JOIN w ON w.k = b.k WHERE b.i % 200 = 0"""))
    engine.dispose()








def pages(definition: str) -> dict[str, str]:
    """The requests measured."""
    return {"heatmap_median": f"/dieu-hanh/quy-trinh/{definition}?xem=nhiet&do=median",
            "heatmap_p90": f"/dieu-hanh/quy-trinh/{definition}?xem=nhiet&do=p90",
            "definition_tokens": f"/dieu-hanh/quy-trinh/{definition}",
            "metrics": "/metrics"}


def _metrics_read(name: str, body: str) -> None:
    assert name != "metrics" or "motcua_metrics_database_ok 1.0" in body, "metrics could not be read"


def measure(client, urls: dict[str, str], requests_n: int) -> dict:
    """p50/p95 in milliseconds of each page over ``requests_n`` requests (after a few to warm up)."""
    return measure_pages(client, urls, requests_n, _metrics_read)


def sizes(url: str) -> dict[str, int]:
    """Rows per table the pages read."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as c:
        found = {t: c.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                 for t in ("process_instance", "history_event", "external_task", "user_task", "incident")}
    engine.dispose()
    return found


def seed(url: str, ids: dict[str, str], instances: tuple[int, int, int], tasks: tuple[int, int],
         now: dt.datetime) -> None:
    """Heatmap instances (first, last, total) and backlog instances (first, last), then fresh statistics."""
    seed_history(url, ids[HEAT], *instances, now)
    seed_backlog(url, ids[BACKLOG], *tasks, now)
    analyze(url)


def main() -> None:
    args = page_bench_arguments(__doc__, {
        "instances": (50_000, 5_000, "heatmap instances in the large run"),
        "external-tasks": (100_000, 10_000, "open external tasks in the large run")},
        (60, 5, "requests per page and run"))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    small, small_tasks = max(args.instances // SCALE, 10), max(args.external_tasks // SCALE, 10)
    pg = PgSchema()
    try:
        ids = prepare(pg.url)
        urls = pages(ids[HEAT])
        seed(pg.url, ids, (1, small, args.instances), (1, small_tasks), now)
        with tempfile.TemporaryDirectory() as var_dir:
            client = signed_in_client(pg.url, Path(var_dir), ANALYST, PASSWORD, metrics_token=None)
            results = {"baseline": measure(client, urls, args.requests)}
            baseline_rows = sizes(pg.url)
            started = time.perf_counter()
            seed(pg.url, ids, (small + 1, args.instances, args.instances), (small_tasks + 1, args.external_tasks),
                 now)
            seeded = round(time.perf_counter() - started, 1)
            rows = sizes(pg.url)
            print(f"seeded {rows['history_event']} history events and {rows['external_task']} external tasks in "
                  f"{seeded} s", flush=True)
            results["large"] = measure(client, urls, args.requests)
            drop_indexes(pg.url, INDEXES_0021)
            analyze(pg.url)
            results["large_without_0021_indexes"] = measure(client, urls, max(args.requests // 3, 5))
            close_client(client)
        report(args, results, seeded, baseline_rows, rows)
    finally:
        pg.drop()


def report(args, results: dict, seeded: float, baseline_rows: dict[str, int], rows: dict[str, int]) -> None:
    """The table, the ratios, and the JSON line."""
    heads = {"baseline": f"baseline ({baseline_rows['history_event']} events)", "large": "large",
             "large_without_0021_indexes": "large, no 0021 indexes"}
    ratio, gain = latency_table(results, heads, "baseline", "large_without_0021_indexes", "0021", 20, 30)
    print(json.dumps({"benchmark": "console", "instances": args.instances, "external_tasks": args.external_tasks,
                      "requests": args.requests, "baseline_rows": baseline_rows, "rows": rows,
                      "seed_seconds": seeded, **results, **aim_fields(results, ratio, gain, AIM_P95_MS)}))


if __name__ == "__main__":
    main()
