"""Portal latency: the catalogue search, a citizen's dossier page and the public look-up, over HTTP against
``motcua serve`` on PostgreSQL — first with a handful of dossiers (the baseline), then with 100,000.

    python bench/portal.py [-n 100000] [--requests 300] [--quick]

Prints p50/p95 per page for both sizes and their ratio; the last line is one JSON object. Aim: p95 under 50 ms
at 100,000 dossiers. The dossiers are cloned in SQL from real ones the engine started, with their history.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, PgSchema, Server, percentile  # noqa: E402

AGENCY = "000.00.00.H56"
QUERIES = ["khai sinh", "dang ky", "giay phep xay dung", "ho kinh doanh", "chung thuc ban sao", "ly lich tu phap"]


def seed_real(url: str, owners: list[str], count: int) -> None:
    """A few real dossiers, started by the engine (birth registration, waiting at intake)."""
    import datetime as dt

    from engine import db, dossier_codes, instances
    from engine.runtime import Actor
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    for i in range(count):
        with db.transaction(factory) as s:
            code = dossier_codes.next_code(s, AGENCY, dt.datetime.now(dt.timezone.utc))
            instances.start(s, Actor("bench"), "dang_ky_khai_sinh", {
                "citizen_id": owners[i % len(owners)], "applicant_name": "Nguyễn Văn An", "quan_he_voi_tre": "cha",
                "ho_ten_tre": "Nguyễn Minh", "ngay_sinh_tre": "2026-11-20", "gioi_tinh_tre": "nam",
                "noi_sinh_tre": "Bệnh viện tỉnh", "dan_toc_tre": "Kinh", "quoc_tich_tre": "Việt Nam",
                "ho_ten_me": "Lê Thị Hoa", "document": "g.pdf", "so_ban_sao": 0, "dossier_code": code,
                "procedure_name": "Đăng ký khai sinh"}, code, from_form=True)
    engine.dispose()


def clone(url: str, total: int, owners: list[str]) -> None:
    """Copy the first real dossier (instance, dossier, history) in SQL until there are ``total`` dossiers;
    owners are spread over ``owners`` and a larger synthetic population."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as c:
        have = c.execute(sa.text("SELECT count(*) FROM dossier")).scalar_one()
        n = total - have
        if n <= 0:
            return
        c.execute(sa.text("CREATE TEMP TABLE src AS SELECT * FROM dossier ORDER BY submitted_at LIMIT 1"))
        c.execute(sa.text("""
            CREATE TEMP TABLE ids AS SELECT i, md5('bench' || i)::uuid::text AS id,
                   :agency || '-' || to_char(DATE '2026-01-01' + (i % 300), 'YYMMDD') || '-' || lpad((10000 + i)::text, 6, '0')
                   AS code,
                   CASE WHEN i % 50 = 0 THEN (CAST(:owners AS text[]))[1 + (i / 50) % cardinality(CAST(:owners AS text[]))]
                        ELSE lpad((1000000 + i % 40000)::text, 12, '0') END AS owner
            FROM generate_series(1, :n) AS i"""), {"agency": AGENCY, "owners": owners, "n": n})
        c.execute(sa.text("""
            INSERT INTO process_instance (id, definition_id, process_key, business_key, status, state, version_no,
                variables, open_incidents, started_by, started_at, updated_at)
            SELECT ids.id, p.definition_id, p.process_key, ids.code, p.status, p.state, p.version_no, p.variables,
                   0, p.started_by, p.started_at - (ids.i || ' minutes')::interval, p.updated_at
            FROM ids, (SELECT * FROM process_instance WHERE id = (SELECT instance_id FROM src)) p"""))
        c.execute(sa.text("""
            INSERT INTO dossier (instance_id, code, procedure_code, channel, deadline_unit, deadline_amount, clock_rule,
                submitted_at, received_at, due_at, pauses, warn_hours, status, status_at, owner_id, procedure_name)
            SELECT ids.id, ids.code, s.procedure_code, s.channel, s.deadline_unit, s.deadline_amount, s.clock_rule,
                   s.submitted_at - (ids.i || ' minutes')::interval, s.received_at - (ids.i || ' minutes')::interval,
                   s.due_at, s.pauses, s.warn_hours, 1 + ids.i % 10, s.status_at, ids.owner, s.procedure_name
            FROM ids, src s"""))
        c.execute(sa.text("""
            INSERT INTO history_event (instance_id, at, kind, activity_id, activity_name, activity_type, task_id,
                user_id, details)
            SELECT ids.id, h.at, h.kind, h.activity_id, h.activity_name, h.activity_type, h.task_id, h.user_id, h.details
            FROM ids, history_event h WHERE h.instance_id = (SELECT instance_id FROM src)"""))
        c.execute(sa.text("ANALYZE"))
    engine.dispose()


def sign_in(base: str, number: str) -> requests.Session:
    """A citizen's browser session, signed in through the VNeID stand-in."""
    web = requests.Session()
    form = web.get(f"{base}/dang-nhap", params={"next": "/ho-so-cua-toi"}, timeout=30)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.text))
    page = web.post(form.url.split("?")[0], data={**fields, "so_dinh_danh": number, "mat_khau": "demo"}, timeout=30)
    assert "Hồ sơ của tôi" in page.text, "sign-in failed"
    return web


def measure(base: str, owner: str, codes: list[str], lookups: list[tuple[str, str]], requests_n: int) -> dict:
    """p50/p95 in milliseconds of each page."""
    web = sign_in(base, owner)
    anonymous = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', anonymous.get(f"{base}/tra-cuu", timeout=30).text).group(1)
    pages = {
        "catalogue_search": lambda i: anonymous.get(f"{base}/thu-tuc", params={"q": QUERIES[i % len(QUERIES)]}),
        "dossier_page": lambda i: web.get(f"{base}/ho-so/{codes[i % len(codes)]}"),
        "public_lookup": lambda i: anonymous.post(f"{base}/tra-cuu", data={
            "csrf_token": token, "ma_ho_so": lookups[i % len(lookups)][0], "so_dinh_danh": lookups[i % len(lookups)][1]}),
    }
    out = {}
    for name, call in pages.items():
        for i in range(20):  # warm up
            call(i)
        timings = []
        for i in range(requests_n):
            started = time.perf_counter()
            response = call(i)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        out[name] = {"p50_ms": round(percentile(timings, 50), 2), "p95_ms": round(percentile(timings, 95), 2)}
    return out


def codes_of(url: str, owner: str | None = None, limit: int = 200) -> list[tuple[str, str]]:
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT code, owner_id FROM dossier WHERE (CAST(:o AS text) IS NULL OR owner_id = :o) "
                                 "ORDER BY random() LIMIT :n"), {"o": owner, "n": limit}).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="dossiers in the large run")
    parser.add_argument("--requests", type=int, default=300, help="requests per page and size")
    parser.add_argument("--quick", action="store_true", help="200 dossiers, 10 requests a page: checks that it runs")
    args = parser.parse_args()
    if args.quick:
        args.n, args.requests = 200, 10
    from workers.registry import SyntheticRegistry
    owners = SyntheticRegistry(3000, 2026).numbers()[:20]
    pg = PgSchema()
    os.environ["MOTCUA_LOOKUP_LIMIT"] = str(10 ** 9)  # the benchmark is one client address
    os.environ["MOTCUA_VNEID_STANDIN"] = "1"  # citizens sign in through the stand-in
    server = None
    try:
        from bench.common import migrate_and_deploy
        from engine.deployment import collect_files
        for folder in ("birth-registration", "criminal-record", "household-business", "construction-permit",
                       "certified-copy"):
            migrate_and_deploy(pg.url, collect_files([ROOT / "processes" / folder]))
        seed_real(pg.url, owners, 20)
        server = Server(pg.url)
        results = {}
        for label, size in (("baseline", 20), ("large", args.n)):
            if size > 20:
                started = time.perf_counter()
                clone(pg.url, size, owners)
                print(f"seeded {size} dossiers in {time.perf_counter() - started:.1f} s", flush=True)
            owner = owners[0]
            mine = [c for c, _ in codes_of(pg.url, owner)]
            results[label] = measure(server.base, owner, mine, codes_of(pg.url), args.requests)
            print(f"{label} ({size} dossiers): " + ", ".join(f"{k} p50 {v['p50_ms']} ms / p95 {v['p95_ms']} ms"
                                                               for k, v in results[label].items()), flush=True)
        ratios = {k: round(results["large"][k]["p95_ms"] / results["baseline"][k]["p95_ms"], 2) for k in results["large"]}
        print("p95 ratio large/baseline: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
        print(json.dumps({"benchmark": "portal", "dossiers": args.n, "requests": args.requests, **results,
                          "p95_ratio": ratios, "aim_p95_ms": 50,
                          "aim_met": all(v["p95_ms"] < 50 for v in results["large"].values())}))
    finally:
        if server is not None:
            server.stop()
        pg.drop()


if __name__ == "__main__":
    main()
