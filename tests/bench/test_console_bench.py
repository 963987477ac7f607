"""bench/console.py still runs: its quick mode seeds, asks the heatmap, the version's page and /metrics (each
answering 200, /metrics with its figures read) in the three runs and ends with one JSON line of figures. No figure is
judged here: timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

from tests.bench.quick import assert_measured, run_quick

PAGES = {"heatmap_median", "heatmap_p90", "definition_tokens", "metrics"}


def test_the_console_benchmark_runs_in_quick_mode():
    figures = run_quick("console.py")
    assert figures["benchmark"] == "console" and figures["aim_p95_ms"] == 200
    assert figures["rows"]["external_task"] == 10_000 and figures["rows"]["history_event"] > 90_000
    assert figures["baseline_rows"]["history_event"] < figures["rows"]["history_event"] // 50
    assert_measured(figures, ("baseline", "large", "large_without_0021_indexes"), PAGES)
