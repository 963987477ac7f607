"""Benchmark: how late timers fire. 1,000 timers due within one minute, on PostgreSQL, fired by one and
then by three ``motcua scheduler`` processes; prints the delay between due time and firing (p50, p95,
max) and the ratio of p95 to the 1-second aim; last line one JSON object.

Usage: ``python bench/timers.py [-n 1000] [--spread 60]``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, PgSchema, migrate_and_deploy, percentile  # noqa: E402
from tests.bpmn_builder import end, linear, process, start  # noqa: E402

AIM_P95_S = 1.0
TIMED = process(linear(start(), ("wait", '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
                                         '<bpmn:timeDate>due</bpmn:timeDate></bpmn:timerEventDefinition>'
                                         '</bpmn:intermediateCatchEvent>'), end()), process_id="timed")


def run(url: str, n: int, spread: float, schedulers: int) -> list[float]:
    """Start n instances whose timers come due over ``spread`` seconds; return each firing's delay (s)."""
    import sqlalchemy as sa
    from engine import db, instances
    from engine.runtime import Actor
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    actor = Actor("bench", operator=True)
    lead = 5 + n / 40  # time to create the instances before the first is due
    first = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=lead)
    dues = [first + dt.timedelta(seconds=spread * i / n) for i in range(n)]
    ids = []
    for chunk in range(0, n, 100):
        with db.transaction(factory) as s:
            ids += [instances.start(s, actor, "timed", {"due": due.isoformat()}).row.id for due in dues[chunk:chunk + 100]]
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "webapp", "scheduler"], env=env, cwd=ROOT,
                              stderr=subprocess.DEVNULL, start_new_session=True) for _ in range(schedulers)]
    try:
        deadline = time.monotonic() + lead + spread + 120
        with engine.connect() as c:
            while time.monotonic() < deadline:
                done = c.execute(sa.text("select count(*) from process_instance where status = 'completed' "
                                         "and id = any(:ids)"), {"ids": ids}).scalar()
                c.commit()
                if done == n:
                    break
                time.sleep(0.5)
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    with engine.connect() as c:
        fired = dict(c.execute(sa.text("select instance_id, at from history_event where kind = 'activity_completed' "
                                       "and activity_id = 'wait' and instance_id = any(:ids)"), {"ids": ids}).all())
    engine.dispose()
    return [(fired[i] - due).total_seconds() for i, due in zip(ids, dues) if i in fired]


def main() -> None:
    """Run with one and three schedulers and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--spread", type=float, default=60.0, help="seconds over which the timers come due")
    args = ap.parse_args()
    out: dict = {"n": args.n, "spread_s": args.spread, "aim_p95_s": AIM_P95_S}
    print(f"Timer delay (due → fired), {args.n} timers due within {args.spread:.0f} s, PostgreSQL")
    print(f"{'schedulers':<12}{'fired':>7}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'p95/aim':>9}")
    for schedulers in (1, 3):
        pg = PgSchema()
        try:
            migrate_and_deploy(pg.url, [("timed.bpmn", TIMED)])
            delays = run(pg.url, args.n, args.spread, schedulers)
        finally:
            pg.drop()
        p50, p95, worst = percentile(delays, 50), percentile(delays, 95), max(delays) if delays else float("nan")
        print(f"{schedulers:<12}{len(delays):>7}{p50:>8.3f}{p95:>8.3f}{worst:>8.3f}{p95 / AIM_P95_S:>8.2f}x")
        out[f"schedulers_{schedulers}"] = {"fired": len(delays), "p50_s": round(p50, 3), "p95_s": round(p95, 3),
                                           "max_s": round(worst, 3), "p95_vs_aim": round(p95 / AIM_P95_S, 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
