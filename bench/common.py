"""What the benchmarks share: a throw-away PostgreSQL schema, a served app, percentiles."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MOTCUA_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class PgSchema:
    """A throw-away schema for a benchmark."""

    def __init__(self) -> None:
        import sqlalchemy as sa
        self.sa = sa
        self.name = f"motcua_bench_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(PG_URL)
        with self.admin.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        sep = "&" if "?" in PG_URL else "?"  # the URL may name a socket folder: ...@/test?host=/var/run/postgresql
        self.url = f"{PG_URL}{sep}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        """Drop it."""
        with self.admin.begin() as c:
            c.execute(self.sa.text(f'DROP SCHEMA "{self.name}" CASCADE'))
        self.admin.dispose()


def migrate_and_deploy(url: str, files: list[tuple[str, bytes]]) -> None:
    """Migrate the database and deploy the files."""
    from engine import db, deployment, schema
    engine = db.make_engine(url)
    schema.upgrade(engine)
    with db.transaction(db.make_session_factory(engine)) as s:
        deployment.deploy(s, files, ROOT / "forms")
    engine.dispose()


def service_token(url: str, name: str = "bench-bot") -> str:
    """Create a service account on the database and return its bearer token."""
    from engine import accounts, db
    engine = db.make_engine(url)
    with db.transaction(db.make_session_factory(engine)) as s:
        accounts.add(s, name, service=True)
        token = accounts.issue_token(s, name)
    engine.dispose()
    return token


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``motcua serve`` (gunicorn) on a free port, in its own process group."""

    def __init__(self, url: str, processes: int = 1, threads: int = 16):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # its own address is its public one: the VNeID stand-in sends codes only to the callback registered for it
        env = {**os.environ, "MOTCUA_DATABASE_URL": url, "PYTHONPATH": str(ROOT), "MOTCUA_PUBLIC_URL": self.base}
        self.proc = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(self.port),
                                      "--processes", str(processes), "--threads", str(threads)],
                                     cwd=ROOT, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/engine-rest/openapi.json", timeout=2).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError("the server did not start")
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group)."""
        import signal
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of values, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def measure_pages(client, urls: dict[str, str], requests_n: int, check=None) -> dict:
    """p50/p95 in milliseconds of each page of ``urls`` (name -> path) over ``requests_n`` requests of a Flask
    test client, after a few to warm up; every reply must be 200, and ``check(name, body)`` may look further."""
    out = {}
    for name, url in urls.items():
        for _ in range(min(3, requests_n)):
            client.get(url).close()
        timings = []
        for _ in range(requests_n):
            started = time.perf_counter()
            reply = client.get(url)
            body = reply.get_data(as_text=True)
            timings.append((time.perf_counter() - started) * 1000)
            assert reply.status_code == 200, (name, url, reply.status_code)
            if check is not None:
                check(name, body)
            reply.close()
        out[name] = {"p50_ms": round(percentile(timings, 50), 2), "p95_ms": round(percentile(timings, 95), 2)}
    return out


def latency_table(results: dict[str, dict], heads: dict[str, str], small: str, without: str, migration: str,
                  name_width: int = 20, cell_width: int = 26) -> tuple[dict[str, float], dict[str, float]]:
    """Print p50/p95 per page (rows) and run (columns, named by ``heads``), then the p95 ratios of the large run to
    the ``small`` one and of the run ``without`` the indexes of ``migration`` to the large one; return both."""
    print(f"{'p50 / p95 ms':{name_width}}" + "".join(f"{heads[r]:>{cell_width}}" for r in results))
    for page in results["large"]:
        cells = (f"{results[r][page]['p50_ms']:.1f} / {results[r][page]['p95_ms']:.1f}" for r in results)
        print(f"{page:{name_width}}" + "".join(f"{c:>{cell_width}}" for c in cells))
    ratio = {p: round(results["large"][p]["p95_ms"] / results[small][p]["p95_ms"], 2) for p in results["large"]}
    gain = {p: round(results[without][p]["p95_ms"] / results["large"][p]["p95_ms"], 2) for p in results["large"]}
    print(f"p95 large / {small}: " + ", ".join(f"{p} {v}x" for p, v in ratio.items()))
    print(f"p95 without / with the {migration} indexes: " + ", ".join(f"{p} {v}x" for p, v in gain.items()))
    return ratio, gain


def analyze(url: str) -> None:
    """Fresh planner statistics and visibility map after a bulk load (autovacuum would take its time; index-only
    scans need the visibility map)."""
    import sqlalchemy as sa
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def drop_indexes(url: str, names) -> None:
    """Drop these indexes (a migration's, to show what they are for)."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.begin() as c:
        for name in names:
            c.execute(sa.text(f'DROP INDEX IF EXISTS "{name}"'))
    engine.dispose()


def signed_in_client(url: str, var_dir: Path, user: str, password: str, **settings):
    """The web app on the database and Flask's test client signed in as ``user`` through the sign-in form (and,
    as every test client, from 127.0.0.1); ``settings`` override the configuration's defaults."""
    import dataclasses
    import re

    from engine import db
    from engine.config import load_settings
    from webapp.app import create_app
    config = dataclasses.replace(load_settings({}), database_url=url, var_dir=var_dir, **settings)
    client = create_app(config, db.make_session_factory(db.make_engine(url))).test_client()
    form = client.get("/can-bo/dang-nhap").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    reply = client.post("/can-bo/dang-nhap", data={"csrf_token": token, "ten": user, "mat_khau": password})
    assert reply.status_code == 302, f"sign-in of {user} failed"
    return client


def close_client(client) -> None:
    """Close the database engines of a test client's app (its own and /metrics')."""
    extensions = client.application.extensions
    extensions["motcua"].engine.dispose()
    if "motcua_monitor" in extensions:
        extensions["motcua_monitor"].dispose()


def aim_fields(results: dict[str, dict], ratio, gain, aim_ms: float, small: str = "baseline") -> dict:
    """The JSON line's verdict fields of a page benchmark: the ratios (large run to the ``small`` one, and
    without the indexes to with them) and whether every large-run p95 is under the aim."""
    return {f"p95_ratio_large_{small}": ratio, "p95_ratio_without_indexes": gain, "aim_p95_ms": aim_ms,
            "aim_met": all(v["p95_ms"] < aim_ms for v in results["large"].values())}


def page_bench_arguments(doc: str, sizes: dict[str, tuple[int, int, str]], requests: tuple[int, int, str]):
    """The options of a page benchmark: each size (``--name``: large default, quick value, help), ``--requests``
    (default, quick value, help) and ``--quick``, a small run for tests that takes the quick values."""
    import argparse
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    for name, (default, _, text) in sizes.items():
        parser.add_argument(f"--{name}", type=int, default=default, help=text)
    parser.add_argument("--requests", type=int, default=requests[0], help=requests[2])
    quick = ", ".join(f"{v[1]:,} {k.replace('-', ' ')}" for k, v in sizes.items())
    parser.add_argument("--quick", action="store_true", help=f"a small run for tests ({quick}, {requests[1]} requests)")
    args = parser.parse_args()
    if args.quick:
        for name, (_, small, _) in sizes.items():
            dest = name.replace("-", "_")
            setattr(args, dest, min(getattr(args, dest), small))
        args.requests = requests[1]
    return args
