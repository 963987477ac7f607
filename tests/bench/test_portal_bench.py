"""bench/portal.py still runs: its quick mode seeds, signs a citizen in through the VNeID stand-in, measures every page
(each answering 200) and ends with one JSON line of figures. No figure is judged here."""
from __future__ import annotations

from tests.bench.quick import assert_measured, run_quick

PAGES = {"catalogue_search", "dossier_page", "public_lookup"}


def test_the_portal_benchmark_runs_in_quick_mode():
    figures = run_quick("portal.py")
    assert figures["benchmark"] == "portal" and figures["dossiers"] == 200 and figures["aim_p95_ms"] == 50
    assert_measured(figures, ("baseline", "large"), PAGES)
