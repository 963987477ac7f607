"""Benchmark: completed external tasks per second with 1, 2 and 4 worker processes on PostgreSQL,
in-process (over the database) and over REST (``motcua serve``, two processes), with the round-trip
latency of a task (fetch started → completion acknowledged) p50/p95.

The baseline is the in-process figure with the same number of processes; the REST path is shown as a
ratio of it (aim: within 2x), and the in-process figure against the aim of 200 completions per second.
Last line one JSON object. Usage: ``python bench/workers.py [-n 2000]``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, PgSchema, Server, migrate_and_deploy, percentile, service_token  # noqa: E402
from tests.bpmn_builder import end, external, linear, process, start  # noqa: E402

AIM = 200.0
ONE_JOB = process(linear(start(), external("job", "bench-job"), end()), process_id="one_job")


def child(mode: str, target: str, count: int, out: str, token: str | None) -> None:
    """A worker process: complete tasks until ``count`` have been completed in all, then write latencies."""
    from engine import db
    from workers.client import DatabaseClient, RestClient
    from workers.runner import Runner

    class Timed:
        """The client, timing each task from the fetch that returned it to its completion."""

        def __init__(self, inner):
            self.inner, self.started, self.latencies = inner, {}, []

        def fetch_and_lock(self, worker_id, topics, max_tasks, wait_ms=0):
            t0 = time.perf_counter()
            tasks = self.inner.fetch_and_lock(worker_id, topics, max_tasks, wait_ms)
            for task in tasks:
                self.started[task.id] = t0
            return tasks

        def complete(self, worker_id, task, variables):
            self.inner.complete(worker_id, task, variables)
            self.latencies.append((time.perf_counter() - self.started.pop(task.id)) * 1000)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    engine = None
    if mode == "db":
        engine = db.make_engine(target)
        client = Timed(DatabaseClient(db.make_session_factory(engine)))
    else:
        client = Timed(RestClient(target, token=token))
    runner = Runner(client, {"bench-job": lambda v: {"done": True}}, f"bench-{os.getpid()}", concurrency=4,
                    lock_ms=60_000, idle_max_s=0.05, long_poll_ms=0)
    runner.install_signal_handlers()
    runner.run()
    Path(out).write_text(json.dumps(client.latencies))
    if engine is not None:
        engine.dispose()


def make_tasks(url: str, n: int) -> None:
    """Start n instances, each waiting on one external task."""
    from engine import db, instances
    from engine.runtime import Actor
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    actor = Actor("bench", operator=True)
    for start_at in range(0, n, 200):
        with db.transaction(factory) as s:
            for i in range(start_at, min(n, start_at + 200)):
                instances.start(s, actor, "one_job", {"i": i})
    engine.dispose()


_ENGINES: dict = {}


def completed(url: str) -> int:
    """How many instances have completed (one connection pool per database, reused)."""
    import sqlalchemy as sa
    from engine import db
    engine = _ENGINES.setdefault(url, db.make_engine(url))
    with engine.connect() as c:
        return c.execute(sa.text("select count(*) from process_instance where status = 'completed'")).scalar()


def run(mode: str, url: str, target: str, token: str | None, processes: int, n: int, tmp: Path):
    """Completions per second and latencies for one configuration."""
    make_tasks(url, n)
    base = completed(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outs = [tmp / f"{mode}-{processes}-{i}.json" for i in range(processes)]
    t0 = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, __file__, "--child", mode, target, str(n), str(out), token or ""],
                              env=env, cwd=ROOT) for out in outs]
    try:
        while completed(url) - base < n:
            time.sleep(0.1)
        elapsed = time.perf_counter() - t0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
    latencies = [x for out in outs for x in json.loads(out.read_text())]
    return n / elapsed, latencies


def main() -> None:
    """Run every configuration and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=2000, help="tasks per configuration")
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, target, count, out, token = args.child
        child(mode, target, int(count), out, token or None)
        return
    import tempfile
    pg = PgSchema()
    server = None
    results: dict = {"n": args.n, "aim_in_process": AIM}
    try:
        migrate_and_deploy(pg.url, [("one_job.bpmn", ONE_JOB)])
        token = service_token(pg.url)
        server = Server(pg.url, processes=2, threads=8)
        print(f"External tasks completed per second, PostgreSQL, {args.n} tasks each ({os.cpu_count()} CPUs)")
        print(f"{'workers':<9}{'in-process/s':>13}{'vs aim':>8}{'REST/s':>9}{'REST/in-proc':>14}"
              f"{'latency in-proc p50/p95 ms':>28}{'latency REST p50/p95 ms':>26}")
        with tempfile.TemporaryDirectory() as tmp:
            for processes in (1, 2, 4):
                db_rate, db_lat = run("db", pg.url, pg.url, None, processes, args.n, Path(tmp))
                rest_rate, rest_lat = run("rest", pg.url, server.base, token, processes, args.n, Path(tmp))
                print(f"{processes:<9}{db_rate:>13.1f}{db_rate / AIM:>7.2f}x{rest_rate:>9.1f}"
                      f"{rest_rate / db_rate:>13.2f}x{percentile(db_lat, 50):>16.1f}/{percentile(db_lat, 95):<11.1f}"
                      f"{percentile(rest_lat, 50):>14.1f}/{percentile(rest_lat, 95):<11.1f}")
                results[f"workers_{processes}"] = {
                    "in_process_per_s": round(db_rate, 1), "rest_per_s": round(rest_rate, 1),
                    "in_process_vs_aim": round(db_rate / AIM, 2), "rest_vs_in_process": round(rest_rate / db_rate, 2),
                    "in_process_p50_ms": round(percentile(db_lat, 50), 1),
                    "in_process_p95_ms": round(percentile(db_lat, 95), 1),
                    "rest_p50_ms": round(percentile(rest_lat, 50), 1), "rest_p95_ms": round(percentile(rest_lat, 95), 1)}
    finally:
        if server:
            server.stop()
        for engine in _ENGINES.values():
            engine.dispose()
        pg.drop()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
