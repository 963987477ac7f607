"""bench/dashboard.py still runs: its quick mode seeds, asks every choice of the dashboard and of the comparison of
agencies (each answering 200) in the three runs and ends with one JSON line of figures. No figure is judged here:
timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

from tests.bench.quick import assert_measured, run_quick

CHOICES = {"all_this_month", "all_last_year", "largest_this_quarter", "smallest_last_month", "csv_all_this_quarter",
           "drill_down_largest_last_month", "compare_this_month", "compare_last_year", "compare_csv_this_quarter"}


def test_the_dashboard_benchmark_runs_in_quick_mode():
    figures = run_quick("dashboard.py")
    assert figures["benchmark"] == "dashboard" and figures["aim_p95_ms"] == 500
    assert figures["rows"]["dossier"] == 20_000 and figures["rows"]["dossier_rating"] > 0
    assert_measured(figures, ("tiny", "large_without_0020_indexes", "large"), CHOICES)
