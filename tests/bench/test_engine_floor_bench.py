"""bench/engine_floor.py still runs: it records the sample procedure's statements, replays them with psycopg
alone and through SQLAlchemy sessions, runs SpiffWorkflow's steps alone, and ends with one JSON line whose
derived figures follow from its measured ones. No figure is judged:
timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

from tests.bench.quick import run_quick


def test_the_database_floor_benchmark_runs_in_quick_mode():
    figures = run_quick("engine_floor.py")
    assert figures["n"] == 6
    # a dossier is five commands: the start, the external task's lock and completion, two user tasks (each
    # found first), and the definition looked up: eleven statements recorded and replayed (now and then one
    # more: a worker's sighting, written every ten seconds)
    assert 11.0 <= figures["statements_per_dossier"] < 11.5
    measured = ("baseline_ms", "motcua_postgresql_ms", "database_floor_ms", "sqlalchemy_floor_ms", "spiff_steps_ms")
    assert min(figures[name] for name in measured) > 0
    assert abs(figures["python_around_database_ms"]
               - (figures["motcua_postgresql_ms"] - figures["database_floor_ms"])) <= 0.02
    assert abs(figures["ratio_motcua_postgresql"]
               - figures["baseline_ms"] / figures["motcua_postgresql_ms"]) <= 0.01
    assert abs(figures["ratio_at_floor_plus_baseline"]
               - figures["baseline_ms"] / (figures["baseline_ms"] + figures["database_floor_ms"])) <= 0.01
    assert abs(figures["engine_own_work_ms"] - (figures["motcua_postgresql_ms"] - figures["sqlalchemy_floor_ms"]
                                                - figures["spiff_steps_ms"])) <= 0.03
    assert abs(figures["ratio_at_sqlalchemy_floor_plus_spiff_steps"]
               - figures["baseline_ms"] / (figures["sqlalchemy_floor_ms"] + figures["spiff_steps_ms"])) <= 0.01


def test_the_sqlalchemy_replay_sends_each_command_in_its_own_transaction(pg_url):
    """The replay through sessions commits where the recording committed, and every statement lands."""
    from sqlalchemy import text

    from bench import engine_floor
    from engine import db
    # one pooled connection, so that every session of the replay sees the temporary table
    engine = db.make_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TEMPORARY TABLE floor_probe (n int)"))
        commit = engine_floor.COMMIT
        engine_floor.replay_with_sessions(db.make_session_factory(engine), [
            ("INSERT INTO floor_probe VALUES (%(n)s)", {"n": 1}, False), commit,
            ("INSERT INTO floor_probe VALUES (%(n)s)", [{"n": 2}, {"n": 3}], True),
            ("SELECT count(*) FROM floor_probe", None, False), commit,
            ("INSERT INTO floor_probe VALUES (%(n)s)", {"n": 4}, False)])  # no commit after it: never sent
        with engine.connect() as connection:
            assert connection.execute(text("SELECT array_agg(n ORDER BY n) FROM floor_probe")).scalar() == [1, 2, 3]
    finally:
        engine.dispose()
