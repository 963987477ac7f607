"""Benchmark: how much of a dossier's time on PostgreSQL is the database itself.

bench/engine.py compares motcua with SpiffWorkflow alone. This one splits motcua's side: it records every
statement and commit the sample procedure's dossiers send (the same five committed commands as bench/engine.py),
replays them with psycopg alone on a second schema holding the same deployment — the same SQL, parameters,
prepared statements and commits, with no SQLAlchemy, no SpiffWorkflow and none of our code — and prints, per
dossier, SpiffWorkflow alone (the baseline), motcua, the replay (the database floor: what any implementation
sending these statements pays) and what is left between motcua and the floor (the Python around the database).

Two more runs split that remainder. The same recording replayed through SQLAlchemy, one session per command as
the engine's callers open them (DESIGN.md) and each statement sent as text: what an engine built on the fixed
stack pays for these statements before it does anything of its own. And SpiffWorkflow running the same steps
and serializing the state after each one without reading it back (motcua keeps workflows in memory between
commands): SpiffWorkflow's share that no engine storing its state after every step avoids. What motcua spends
beyond the two is the engine's own work: checks, projections, history, the dossier clock, the ORM's objects.

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
from engine import db  # noqa: E402

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


def replay_with_sessions(factory, recording: list) -> None:
    """Send the recorded statements through SQLAlchemy: one session per command (the statements up to a commit),
    each statement as text on the session's connection, every result read."""
    statements: list = []
    for item in recording:
        if item is not COMMIT:
            statements.append(item)
            continue
        with db.transaction(factory) as session:
            connection = session.connection()
            for sql, parameters, many in statements:
                result = connection.exec_driver_sql(sql, parameters if many else parameters or None)
                if result.returns_rows:
                    result.all()
        statements = []


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


def replayer(send, dossiers: list[list]):
    """A function replaying the next k recorded dossiers with ``send`` (a function of a recording), as
    bench/engine.py's runners run k dossiers."""
    remaining = iter(dossiers)

    def run(k: int) -> None:
        send([item for _ in range(k) for item in next(remaining)])
    return run


def main() -> None:
    """Measure and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=300, help="dossiers measured")
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds (as bench/engine.py)")
    ap.add_argument("--quick", action="store_true", help="6 dossiers in 2 rounds: checks that it runs")
    args = ap.parse_args()
    n, rounds = (6, 2) if args.quick else (args.n, args.rounds)
    recorded, replayed, through_sessions = PgSchema(), PgSchema(), PgSchema()
    schemas = (recorded, replayed, through_sessions)
    try:
        for schema in schemas:
            prepare(schema.url)
        dossiers = by_dossier(record(recorded.url, n))
        connection = psycopg.connect(replayed.url.replace("postgresql+psycopg://", "postgresql://"))
        sessions_engine = db.make_engine(through_sessions.url)
        factory = db.make_session_factory(sessions_engine)
        try:
            runs = {"baseline": make_baseline(), "motcua": motcua_runner(recorded.url),
                    "floor": replayer(lambda items: replay(connection, items), dossiers),
                    "sessions": replayer(lambda items: replay_with_sessions(factory, items), dossiers),
                    "spiff_steps": make_baseline(read_back=False)}
            for name in ("floor", "sessions"):
                runs[name](WARM_UP)  # the warm-up dossiers: statements prepared, caches warm
            rates = one_process(runs, n, rounds)
        finally:
            connection.close()
            sessions_engine.dispose()
            _ENGINES.pop(recorded.url).dispose()
    finally:
        for schema in schemas:
            schema.drop()
    measured = dossiers[WARM_UP:]
    statements = sum(1 for dossier in measured for item in dossier if item is not COMMIT) / len(measured)
    report(figures_of({name: 1 / rate for name, rate in rates.items()}, n, statements), rounds)


def figures_of(seconds: dict[str, float], n: int, statements: float) -> dict:
    """The printed figures, in ms per dossier, from each run's seconds per dossier."""
    baseline, motcua, floor = seconds["baseline"], seconds["motcua"], seconds["floor"]
    sessions, spiff = seconds["sessions"], seconds["spiff_steps"]
    return {"n": n, "statements_per_dossier": round(statements, 1),
            "baseline_ms": round(baseline * 1e3, 2), "motcua_postgresql_ms": round(motcua * 1e3, 2),
            "database_floor_ms": round(floor * 1e3, 2), "python_around_database_ms": round((motcua - floor) * 1e3, 2),
            "sqlalchemy_floor_ms": round(sessions * 1e3, 2), "spiff_steps_ms": round(spiff * 1e3, 2),
            "engine_own_work_ms": round((motcua - sessions - spiff) * 1e3, 2),
            "ratio_motcua_postgresql": round(baseline / motcua, 3),
            "ratio_at_floor_plus_baseline": round(baseline / (floor + baseline), 3),
            "ratio_at_sqlalchemy_floor_plus_spiff_steps": round(baseline / (sessions + spiff), 3)}


def report(figures: dict, rounds: int) -> None:
    """Print the table, the ratios and, last, the JSON line."""
    print(f"Per dossier, {figures['n']} dossiers in {rounds} interleaved rounds, "
          f"{figures['statements_per_dossier']:.1f} statements and {COMMITS_PER_DOSSIER} commits each")
    for name, label in (("baseline_ms", "SpiffWorkflow alone (baseline)"), ("motcua_postgresql_ms", "motcua on PostgreSQL"),
                        ("database_floor_ms", "its statements replayed by psycopg"),
                        ("python_around_database_ms", "motcua less the replay"),
                        ("sqlalchemy_floor_ms", "replayed through SQLAlchemy sessions"),
                        ("spiff_steps_ms", "SpiffWorkflow's steps and saves only"),
                        ("engine_own_work_ms", "motcua less those two (its own work)")):
        print(f"{label:40s} {figures[name]:8.2f} ms")
    print(f"motcua / baseline {figures['ratio_motcua_postgresql']:.3f}x; baseline / (floor + baseline) "
          f"{figures['ratio_at_floor_plus_baseline']:.3f}x (the ratio if the Python around the database cost what "
          f"the baseline does); baseline / (SQLAlchemy replay + SpiffWorkflow's steps and saves) "
          f"{figures['ratio_at_sqlalchemy_floor_plus_spiff_steps']:.3f}x (the ratio if the engine's own work cost "
          f"nothing)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
