"""bench/dashboard.py still runs: its quick mode seeds, asks every choice of the dashboard and of the comparison of
agencies (each answering 200) in the three runs and ends with one JSON line of figures. No figure is judged here:
timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import PG_URL, ROOT, require_pg

CHOICES = {"all_this_month", "all_last_year", "largest_this_quarter", "smallest_last_month", "csv_all_this_quarter",
           "drill_down_largest_last_month", "compare_this_month", "compare_last_year", "compare_csv_this_quarter"}


def test_the_dashboard_benchmark_runs_in_quick_mode():
    require_pg()
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboard.py"), "--quick"], cwd=ROOT, text=True,
                         capture_output=True, timeout=600, env={**os.environ, "MOTCUA_BENCH_PG_URL": PG_URL})
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["benchmark"] == "dashboard" and figures["aim_p95_ms"] == 500
    assert figures["rows"]["dossier"] == 20_000 and figures["rows"]["dossier_rating"] > 0
    for run_name in ("tiny", "large_without_0020_indexes", "large"):
        assert set(figures[run_name]) == CHOICES
        assert all(v["p50_ms"] <= v["p95_ms"] for v in figures[run_name].values())
