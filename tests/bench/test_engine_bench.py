"""bench/engine.py still runs: its quick mode runs the baseline and motcua on SQLite and PostgreSQL, with one
process (interleaved) and two, and ends with one JSON line of rates and ratios. No figure is judged here: timings
are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

from tests.bench.quick import run_quick

RUNS = ("motcua_sqlite_1p", "motcua_sqlite_2p", "motcua_postgresql_1p", "motcua_postgresql_2p")


def test_the_engine_benchmark_runs_in_quick_mode():
    figures = run_quick("engine.py")
    assert figures["n"] == 6 and figures["baseline_spiff_json"] > 0
    for run in RUNS:
        assert figures[run] > 0
        # each ratio is its rate over the baseline's (both printed rounded)
        assert abs(figures[f"ratio_{run}"] - figures[run] / figures["baseline_spiff_json"]) < 0.01 * figures[f"ratio_{run}"] + 0.002
