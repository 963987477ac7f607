"""bench/inbox.py still runs: its quick mode seeds, measures every page (each answering 200) and ends with one JSON
line of figures. No figure is judged here: timings are the benchmark's to report, not a test's to assert."""
from __future__ import annotations

from tests.bench.quick import assert_measured, run_quick

PAGES = {"inbox_default", "inbox_filtered", "inbox_late_page", "task_page"}


def test_the_inbox_benchmark_runs_in_quick_mode():
    figures = run_quick("inbox.py")
    assert figures["benchmark"] == "inbox" and figures["aim_p95_ms"] == 100
    assert_measured(figures, ("baseline", "large", "large_without_0016_indexes"), PAGES)
