"""bench/engine_floor.py still runs: it records the sample procedure's statements, replays them with psycopg
alone and ends with one JSON line whose derived figures follow from its measured ones. No figure is judged:
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
    assert min(figures["baseline_ms"], figures["motcua_postgresql_ms"], figures["database_floor_ms"]) > 0
    assert abs(figures["python_around_database_ms"]
               - (figures["motcua_postgresql_ms"] - figures["database_floor_ms"])) <= 0.02
    assert abs(figures["ratio_motcua_postgresql"]
               - figures["baseline_ms"] / figures["motcua_postgresql_ms"]) <= 0.01
    assert abs(figures["ratio_at_floor_plus_baseline"]
               - figures["baseline_ms"] / (figures["baseline_ms"] + figures["database_floor_ms"])) <= 0.01
