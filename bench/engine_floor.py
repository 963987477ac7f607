"""Benchmark: how much of a dossier's time on PostgreSQL is the database itself.

bench/engine.py compares motcua with SpiffWorkflow alone. This one splits motcua's side: it records every
statement and commit the sample procedure's dossiers send (the same five committed commands as bench/engine.py),
replays them with psycopg alone on a second schema holding the same deployment — the same SQL, parameters,
prepared statements and commits, with no SQLAlchemy, no SpiffWorkflow and none of our code — and prints, per
dossier, SpiffWorkflow alone (the baseline), motcua, the replay (the database floor: what any implementation
sending these statements pays) and what is left between motcua and the floor (the Python around the database).

Usage: ``python bench/engine_floor.py [-n 300] [--quick]``. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.common import PgSchema  # noqa: E402
from bench.engine import WARM_UP, _ENGINES, make_baseline, motcua_runner, one_process, prepare  # noqa: E402

COMMIT = None  # the marker of a commit in a recording
COMMITS_PER_DOSSIER = 5


def record(url: str, n: int) -> list:
    """Run ``WARM_UP`` + n dossiers on ``url``; every statement (SQL, parameters) and commit, in order."""
    run = motcua_runner(url)  # its warm-up runs before the recording starts, so it is replayed separately below
    recording: list = []
    engine = _ENGINES[url]

    def statement(_conn, _cursor, sql, parameters, _context, many):
        recording.append((sql, copy.copy(parameters), many))

    def commit(_conn):
        recording.append(COMMIT)
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        run(WARM_UP + n)
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    return recording


def replay(connection: psycopg.Connection, recording: list) -> None:
    """Send the recorded statements and commits with psycopg, reading every result."""
    cursor = connection.cursor()
    for item in recording:
        if item is COMMIT:
            connection.commit()
            continue
        sql, parameters, many = item
        if many:
            cursor.executemany(sql, parameters)
            continue
        cursor.execute(sql, parameters or None)
        if cursor.description is not None:
            cursor.fetchall()


def by_dossier(recording: list) -> list[list]:
    """The recording cut into dossiers (five commits each)."""
    dossiers, current, commits = [], [], 0
    for item in recording:
        current.append(item)
        if item is COMMIT:
            commits += 1
            if commits % COMMITS_PER_DOSSIER == 0:
                dossiers.append(current)
                current = []
    return dossiers


def replayer(connection: psycopg.Connection, dossiers: list[list]):
    """A function replaying the next k recorded dossiers, as bench/engine.py's runners run k dossiers."""
    remaining = iter(dossiers)

    def run(k: int) -> None:
        replay(connection, [item for _ in range(k) for item in next(remaining)])
    return run


def main() -> None:
    """Measure and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="dossiers measured")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds (as bench/engine.py)")
    ap.add_argument("--quick", action="store_true", help="6 dossiers in 2 rounds: checks that it runs")
    args = ap.parse_args()
    n, rounds = (6, 2) if args.quick else (args.n, args.rounds)
    recorded, replayed = PgSchema(), PgSchema()
    try:
        for schema in (recorded, replayed):
            prepare(schema.url)
        dossiers = by_dossier(record(recorded.url, n))
        connection = psycopg.connect(replayed.url.replace("postgresql+psycopg://", "postgresql://"))
        try:
            runs = {"baseline": make_baseline(), "motcua": motcua_runner(recorded.url),
                    "floor": replayer(connection, dossiers)}
            runs["floor"](WARM_UP)  # the warm-up dossiers: statements prepared, caches warm
            rates = one_process(runs, n, rounds)
        finally:
            connection.close()
            _ENGINES.pop(recorded.url).dispose()
    finally:
        for schema in (recorded, replayed):
            schema.drop()
    baseline, motcua, floor = (1 / rates[name] for name in ("baseline", "motcua", "floor"))
    measured = dossiers[WARM_UP:]
    statements = sum(1 for dossier in measured for item in dossier if item is not COMMIT) / len(measured)
    figures = {"n": n, "statements_per_dossier": round(statements, 1),
               "baseline_ms": round(baseline * 1e3, 2), "motcua_postgresql_ms": round(motcua * 1e3, 2),
               "database_floor_ms": round(floor * 1e3, 2), "python_around_database_ms": round((motcua - floor) * 1e3, 2),
               "ratio_motcua_postgresql": round(baseline / motcua, 3),
               "ratio_at_floor_plus_baseline": round(baseline / (floor + baseline), 3)}
    print(f"Per dossier, {n} dossiers in {rounds} interleaved rounds, {statements:.1f} statements and "
          f"{COMMITS_PER_DOSSIER} commits each")
    for name, label in (("baseline_ms", "SpiffWorkflow alone (baseline)"), ("motcua_postgresql_ms", "motcua on PostgreSQL"),
                        ("database_floor_ms", "its statements replayed by psycopg"),
                        ("python_around_database_ms", "motcua less the replay")):
        print(f"{label:40s} {figures[name]:8.2f} ms")
    print(f"motcua / baseline {figures['ratio_motcua_postgresql']:.3f}x; baseline / (floor + baseline) "
          f"{figures['ratio_at_floor_plus_baseline']:.3f}x (the ratio if the Python around the database cost what "
          f"the baseline does)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
