"""Officers' inbox latency: the list page ``/can-bo/`` (default view, filters, a late page) and a task page
``/can-bo/viec/<id>``, through Flask's test client signed in, on PostgreSQL — first with only the real dossiers
(the baseline), then with 100,000 open user tasks and 1,000,000 finished dossiers, then once more without the
indexes of migration 0016.

    python bench/inbox.py [--tasks 100000] [--dossiers 1000000] [--requests 300] [--quick]

The open dossiers are cloned in SQL from real ones the engine started (one of each procedure, waiting at the
one-stop desk), with their state, variables and history, so that every task page renders; they are spread over
agencies, procedures, the three groups' steps, statuses, received and due moments around now, and a third are
claimed by a colleague. The finished dossiers are dossier and instance rows (their workflow state is a stub:
nothing on these pages reads it) with a short history. The bench officer works at the one-stop desk of the
largest agency (an eighth of all tasks; half of those are the desk's). "Late page" is the default view 50-60
pages in, reached by "Trang sau" (the baseline has a single page). Prints p50/p95 per page for each run and the
ratios; the last line is one JSON object. Aim: p95 under 100 ms at full size. ``--quick`` is a small run for tests.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (ROOT, PgSchema, aim_fields, analyze, close_client, drop_indexes, latency_table,  # noqa: E402
                          migrate_and_deploy, page_bench_arguments, percentile, signed_in_client)

FOLDERS = ("birth-registration", "criminal-record", "household-business", "construction-permit", "certified-copy")
AGENCIES = ("000.00.00.H56", "000.00.16.H56", "000.00.05.H56", "000.00.12.H56", "000.00.21.H56", "000.00.23.H56",
            "000.00.30.H56", "000.00.41.H56")
GROUPS = (("mot-cua", 1, 0.5), ("chuyen-vien", 4, 0.3), ("lanh-dao", 4, 0.2))  # group, dossier status, share
OFFICER, PASSWORD = "can-bo-bench", "mat-khau-bench"
COLLEAGUES = 4  # named officers per agency and group who have claimed tasks
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
AIM_P95_MS = 100


def _defaults(folder: str) -> tuple[dict, dict, dict]:
    """(procedure.toml, the scenarios' start form, the scenarios' worker answers) of a procedure folder."""
    import yaml
    procedure = tomllib.loads((ROOT / "processes" / folder / "procedure.toml").read_text())
    defaults = yaml.safe_load((ROOT / "processes" / folder / "scenarios" / "defaults.yaml").read_text())
    answers = {topic: spec.get("result", {}) for topic, spec in (defaults.get("workers") or {}).items()}
    answers.setdefault("esign-verify", {"signature_valid": True, "signature_reason_vi": "Chữ ký hợp lệ"})
    return procedure, dict(defaults["start"]["form"]), answers


def _steps(folder: str) -> dict[str, tuple[str, str, str | None]]:
    """The first user task of each officers' group in the procedure's BPMN: group → (id, name, form key)."""
    found: dict[str, tuple[str, str, str | None]] = {}
    for task in ET.parse(ROOT / "processes" / folder / "process.bpmn").iter(f"{BPMN}userTask"):
        group = task.get(f"{CAMUNDA}candidateGroups")
        if group and group not in found:
            found[group] = (task.get("id"), task.get("name") or task.get("id"), task.get(f"{CAMUNDA}formKey"))
    return found


def seed_real(url: str, per_procedure: int) -> None:
    """Real dossiers started by the engine, each run through its service tasks to the desk's intake check; the
    bench officer (one-stop desk of the first agency) and colleagues in every agency and group."""
    from engine import accounts, agencies, db, dossier_codes, external_tasks, instances
    from engine.runtime import Actor
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    with db.transaction(factory) as s:
        for i, code in enumerate(AGENCIES):
            agencies.add_agency(s, code, f"Ủy ban nhân dân xã số {i + 1}")
        accounts.add(s, OFFICER, PASSWORD, groups=["mot-cua"], agency=AGENCIES[0])
    with engine.begin() as c:  # colleagues who never sign in here: no password hashing for each
        c.exec_driver_sql("INSERT INTO account (name, groups, agency, is_service, disabled, created_at) "
                          "VALUES (%(n)s, %(g)s, %(a)s, false, false, now())",
                          [{"n": f"cb-{a}-{group}-{k}", "g": group, "a": AGENCIES[a]} for a in range(len(AGENCIES))
                           for group, _, _ in GROUPS for k in range(1, COLLEAGUES + 1)])
    for folder in FOLDERS:
        procedure, form, answers = _defaults(folder)
        for _ in range(per_procedure):
            with db.transaction(factory) as s:
                code = dossier_codes.next_code(s, AGENCIES[0], dt.datetime.now(dt.timezone.utc))
                instances.start(s, Actor("bench"), procedure["process_key"], {**form, "dossier_code": code}, code,
                                from_form=True)
        while True:
            with db.transaction(factory) as s:
                claimed = external_tasks.fetch_and_lock(s, "bench", {t: 60_000 for t in answers}, 100)
                for task in claimed:
                    external_tasks.complete(s, task.id, "bench", answers[task.topic])
            if not claimed:
                break
    with engine.begin() as c:  # every real dossier (and so its task) belongs to the bench officer's agency
        c.exec_driver_sql("UPDATE dossier SET agency = %(a)s", {"a": AGENCIES[0]})
        c.exec_driver_sql("UPDATE user_task SET agency = %(a)s", {"a": AGENCIES[0]})
    engine.dispose()


def _templates(c) -> tuple[list[tuple], list[tuple]]:
    """(procedure index, instance id, task id) of one real dossier per procedure, and each procedure's steps
    (procedure index, group index, group, activity id, name, form key, dossier status)."""
    import sqlalchemy as sa
    templates, steps = [], []
    for p, folder in enumerate(FOLDERS):
        key = tomllib.loads((ROOT / "processes" / folder / "procedure.toml").read_text())["process_key"]
        row = c.execute(sa.text("SELECT t.instance_id, t.id FROM user_task t JOIN process_instance i "
                                "ON i.id = t.instance_id WHERE t.process_key = :k ORDER BY i.started_at LIMIT 1"),
                        {"k": key}).one()
        templates.append((p, row[0], row[1]))
        found = _steps(folder)
        for g, (group, status, _) in enumerate(GROUPS):
            activity, name, form_key = found[group]
            steps.append((p, g, group, activity, name, form_key, status))
    return templates, steps


def _values(rows: list[tuple]) -> str:
    """A VALUES list of literal rows (our own constants only)."""
    def lit(v):
        if v is None:
            return "NULL"
        return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def seed_open(url: str, n: int) -> None:
    """``n`` open dossiers, each with one open user task, cloned from the real ones in SQL."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    shares = [share for _, _, share in GROUPS]
    with engine.begin() as c:
        templates, steps = _templates(c)
        c.execute(sa.text(f"CREATE TEMP TABLE tmpl (p int, iid text, tid text) ON COMMIT DROP; "
                          f"INSERT INTO tmpl VALUES {_values(templates)}"))
        c.execute(sa.text(f"CREATE TEMP TABLE step (p int, g int, grp text, activity text, name text, form_key text, "
                          f"status int) ON COMMIT DROP; INSERT INTO step VALUES {_values(steps)}"))
        c.execute(sa.text("SELECT setseed(0.42)"))
        c.execute(sa.text("""
            CREATE TEMP TABLE o ON COMMIT DROP AS
            SELECT i, md5('bench-open-' || i)::uuid::text AS iid, md5('bench-task-' || i)::uuid::text AS tid,
                   i % :procs AS p, a, g, received,
                   CASE WHEN rd < 0.02 THEN NULL ELSE now() + (rd * 14 - 4) * interval '1 day' END AS due,
                   CASE WHEN a = 0 AND g = 0 AND rs < 0.03 THEN :officer
                        WHEN rs < 0.33 THEN 'cb-' || a || '-' || (ARRAY['mot-cua','chuyen-vien','lanh-dao'])[g + 1]
                                            || '-' || (1 + floor(rs * 1000)::int % :colleagues) END AS assignee,
                   (CAST(:agencies AS text[]))[a + 1] || '-'
                       || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD') || '-' || lpad(i::text, 6, '0')
                       AS code,
                   lpad((1000000 + i % 40000)::text, 12, '0') AS owner, rs
            FROM (SELECT i, floor(random() * :nagencies)::int AS a,
                         CASE WHEN r < :s0 THEN 0 WHEN r < :s01 THEN 1 ELSE 2 END AS g,
                         now() - random() * interval '30 days' AS received, random() AS rd, random() AS rs
                  FROM (SELECT i, random() AS r FROM generate_series(1, :n) AS i) x) y"""),
                  {"procs": len(FOLDERS), "officer": OFFICER, "colleagues": COLLEAGUES, "agencies": list(AGENCIES),
                   "nagencies": len(AGENCIES), "s0": shares[0], "s01": shares[0] + shares[1], "n": n})
        c.execute(sa.text("""
            INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
                variables, open_incidents, next_timer_at, started_by, started_at, updated_at)
            SELECT o.iid, s.definition_id, s.process_key, o.code, 'active', s.state, s.version_no, s.variables, 0,
                   s.next_timer_at, s.started_by, o.received, o.received
            FROM o JOIN tmpl ON tmpl.p = o.p JOIN process_instance s ON s.id = tmpl.iid"""))
        c.execute(sa.text("""
            INSERT INTO dossier (instance_id, code, procedure_code, channel, deadline_unit, deadline_amount, clock_rule,
                submitted_at, received_at, due_at, pauses, warn_hours, status, status_at, owner_id, agency,
                procedure_name, supplement_requests, supplements_allowed)
            SELECT o.iid, o.code, d.procedure_code, d.channel, d.deadline_unit, d.deadline_amount, d.clock_rule,
                   o.received, o.received, coalesce(o.due, o.received + interval '10 days'), d.pauses, d.warn_hours,
                   CASE WHEN o.g = 0 AND o.rs > 0.9 THEN 5 WHEN o.g = 1 AND o.rs > 0.85 THEN 6 ELSE st.status END,
                   o.received, o.owner, (CAST(:agencies AS text[]))[o.a + 1], d.procedure_name, 0, 1
            FROM o JOIN tmpl ON tmpl.p = o.p JOIN dossier d ON d.instance_id = tmpl.iid
                   JOIN step st ON st.p = o.p AND st.g = o.g"""), {"agencies": list(AGENCIES)})
        c.execute(sa.text("""
            INSERT INTO user_task (id, instance_id, definition_id, process_key, business_key, activity_id, name, lane,
                form_key, assignee, candidate_groups, candidate_users, priority, due_at, created_at, suspended, agency)
            SELECT o.tid, o.iid, t.definition_id, t.process_key, o.code, st.activity, st.name, t.lane, st.form_key,
                   o.assignee, st.grp, '', t.priority, o.due, o.received + interval '1 hour', false,
                   (CAST(:agencies AS text[]))[o.a + 1]
            FROM o JOIN tmpl ON tmpl.p = o.p JOIN user_task t ON t.id = tmpl.tid
                   JOIN step st ON st.p = o.p AND st.g = o.g"""), {"agencies": list(AGENCIES)})
        c.execute(sa.text("INSERT INTO user_task_candidate (task_id, kind, value) "
                          "SELECT o.tid, 'group', st.grp FROM o JOIN step st ON st.p = o.p AND st.g = o.g"))
        c.execute(sa.text("""
            INSERT INTO history_event (instance_id, at, kind, activity_id, activity_name, activity_type, task_id,
                user_id, details)
            SELECT o.iid, o.received + (h.at - s.started_at), h.kind, h.activity_id, h.activity_name, h.activity_type,
                   h.task_id, h.user_id, h.details
            FROM o JOIN tmpl ON tmpl.p = o.p JOIN process_instance s ON s.id = tmpl.iid
                   JOIN history_event h ON h.instance_id = tmpl.iid"""))
    engine.dispose()


def seed_finished(url: str, m: int) -> None:
    """``m`` finished dossiers (returned, a few refused) over the last two years, with a short history."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as c:
        templates, _ = _templates(c)
        c.execute(sa.text(f"CREATE TEMP TABLE tmpl (p int, iid text, tid text) ON COMMIT DROP; "
                          f"INSERT INTO tmpl VALUES {_values(templates)}"))
        c.execute(sa.text("SELECT setseed(0.24)"))
        c.execute(sa.text("""
            CREATE TEMP TABLE f ON COMMIT DROP AS
            SELECT i, '00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0') AS iid, i % :procs AS p, a, received,
                   received + (1 + rf * 20) * interval '1 day' AS finished,
                   (CAST(:agencies AS text[]))[a + 1] || '-'
                       || to_char(received AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYMMDD')
                       || '-' || lpad((1000000 + i)::text, 7, '0') AS code,
                   lpad((1000000 + i % 400000)::text, 12, '0') AS owner, rf
            FROM (SELECT row_number() OVER (ORDER BY a, received) AS i, a, received, rf
                  FROM (SELECT floor(random() * :nagencies)::int AS a, random() AS rf,
                               now() - (30 + random() * 700) * interval '1 day' AS received
                        FROM generate_series(1, :m)) y) x
            ORDER BY i"""),
                  {"procs": len(FOLDERS), "agencies": list(AGENCIES), "nagencies": len(AGENCIES), "m": m})
        c.execute(sa.text("""
            INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
                variables, open_incidents, started_by, started_at, updated_at, ended_at)
            SELECT f.iid, s.definition_id, s.process_key, f.code, 'completed', '{}', 12, '{}', 0, s.started_by,
                   f.received, f.finished, f.finished
            FROM f JOIN tmpl ON tmpl.p = f.p JOIN process_instance s ON s.id = tmpl.iid"""))
        c.execute(sa.text("""
            INSERT INTO dossier (instance_id, code, procedure_code, channel, deadline_unit, deadline_amount, clock_rule,
                submitted_at, received_at, due_at, pauses, finished_at, delivered_at, warn_hours, status, status_at,
                owner_id, agency, procedure_name, supplement_requests, supplements_allowed)
            SELECT f.iid, f.code, d.procedure_code, d.channel, d.deadline_unit, d.deadline_amount, d.clock_rule,
                   f.received, f.received, f.received + interval '15 days', '[]', f.finished,
                   CASE WHEN f.rf < 0.97 THEN f.finished END, d.warn_hours, CASE WHEN f.rf < 0.97 THEN 10 ELSE 3 END,
                   f.finished, f.owner, (CAST(:agencies AS text[]))[f.a + 1], d.procedure_name, 0, 1
            FROM f JOIN tmpl ON tmpl.p = f.p JOIN dossier d ON d.instance_id = tmpl.iid"""),
                  {"agencies": list(AGENCIES)})
        c.execute(sa.text("""
            INSERT INTO history_event (instance_id, at, kind, user_id)
            SELECT f.iid, f.received, 'instance_started', 'portal' FROM f
            UNION ALL SELECT f.iid, f.finished, 'instance_completed', NULL FROM f"""))
    engine.dispose()




INDEXES_0016 = ("ix_user_task_agency_due", "ix_user_task_agency_procedure", "ix_user_task_agency_code",
                "ix_dossier_open_agency_status", "ix_dossier_open_agency_received_at")




def _visible_tasks(url: str, limit: int = 300) -> tuple[list[str], list[str]]:
    """Task ids and dossier codes from the bench officer's inbox, at random."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT id, business_key FROM user_task WHERE agency = :a AND candidate_groups = "
                                 "'mot-cua' ORDER BY random() LIMIT :n"), {"a": AGENCIES[0], "n": limit}).all()
    engine.dispose()
    return [r[0] for r in rows], [r[1] for r in rows]


def _late_pages(client, deepest: int) -> list[str]:
    """The URLs of the default view's pages, following "Trang sau" up to page ``deepest``; the last ten."""
    urls, url = ["/can-bo/"], "/can-bo/"
    for _ in range(deepest - 1):
        found = re.search(r'rel="next" href="([^"]+)"', client.get(url).get_data(as_text=True))
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
        urls.append(url)
    return urls[-10:]


def page_set(client, url: str, deepest: int) -> dict[str, list[str]]:
    """What to request: the inbox's default view, its filtered and sorted views, late pages, task pages."""
    ids, codes = _visible_tasks(url)
    filtered = ["/can-bo/?han=due_soon", "/can-bo/?han=overdue&nguoi_xu_ly=nobody", "/can-bo/?nguoi_xu_ly=me",
                "/can-bo/?thu_tuc=cap_phieu_lltp", "/can-bo/?trang_thai=5", "/can-bo/?sap_xep=received&thu_tu=desc",
                "/can-bo/?sap_xep=procedure", "/can-bo/?sap_xep=code", "/can-bo/?han=on_time&sap_xep=received"]
    filtered += [f"/can-bo/?ma_ho_so={code[-6:]}" for code in codes[:3]]
    return {"inbox_default": ["/can-bo/"], "inbox_filtered": filtered, "inbox_late_page": _late_pages(client, deepest),
            "task_page": [f"/can-bo/viec/{i}" for i in ids]}


def measure(client, pages: dict[str, list[str]], requests_n: int) -> dict:
    """p50/p95 in milliseconds of each kind of page, over ``requests_n`` requests (after a warm-up)."""
    out = {}
    for name, urls in pages.items():
        for i in range(min(20, requests_n)):
            client.get(urls[i % len(urls)])
        timings = []
        for i in range(requests_n):
            started = time.perf_counter()
            reply = client.get(urls[i % len(urls)])
            timings.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, (name, urls[i % len(urls)], reply.status_code)
        out[name] = {"p50_ms": round(percentile(timings, 50), 2), "p95_ms": round(percentile(timings, 95), 2)}
    return out




def main() -> None:
    args = page_bench_arguments(__doc__, {
        "tasks": (100_000, 2_000, "open user tasks in the large run"),
        "dossiers": (1_000_000, 5_000, "finished dossiers in the large run")},
        (300, 10, "requests per kind of page and run"))
    import tempfile
    pg = PgSchema()
    try:
        from engine.deployment import collect_files
        for folder in FOLDERS:
            migrate_and_deploy(pg.url, collect_files([ROOT / "processes" / folder]))
        seed_real(pg.url, 1 if args.quick else 2)
        with tempfile.TemporaryDirectory() as var_dir:
            client = signed_in_client(pg.url, Path(var_dir), OFFICER, PASSWORD)
            results = {"baseline": measure(client, page_set(client, pg.url, 60), args.requests)}
            started = time.perf_counter()
            seed_open(pg.url, args.tasks)
            seed_finished(pg.url, args.dossiers)
            analyze(pg.url)
            seeded = round(time.perf_counter() - started, 1)
            print(f"seeded {args.tasks} open tasks and {args.dossiers} finished dossiers in {seeded} s", flush=True)
            pages = page_set(client, pg.url, 60)
            results["large"] = measure(client, pages, args.requests)
            drop_indexes(pg.url, INDEXES_0016)
            analyze(pg.url)
            results["large_without_0016_indexes"] = measure(client, pages, max(args.requests // 6, 10))
            close_client(client)
        report(args, results, seeded)
    finally:
        pg.drop()


def report(args, results: dict, seeded: float) -> None:
    """The table, the ratios, and the JSON line."""
    heads = {"baseline": "baseline", "large": "large", "large_without_0016_indexes": "large, no 0016 indexes"}
    ratio, gain = latency_table(results, heads, "baseline", "large_without_0016_indexes", "0016", 18)
    print(json.dumps({"benchmark": "inbox", "open_tasks": args.tasks, "finished_dossiers": args.dossiers,
                      "requests": args.requests, "seed_seconds": seeded, **results,
                      **aim_fields(results, ratio, gain, AIM_P95_MS)}))


if __name__ == "__main__":
    main()
