"""Rendered diagrams in a real browser, inline in a page under the console's Content-Security-Policy: they
draw at their own size and break no rule of the policy (no inline style, no script). Screenshots are saved
under var/test-artifacts/diagrams/ for a human to look at."""
from __future__ import annotations

import pytest

from tests.conftest import PROCESSES, screenshot
from tests.webapp.console.test_diagram_svg import HERE
from webapp.console import diagram
from webapp.portal import SECURITY_HEADERS

ORIGIN = "http://diagram.test"
BIRTH_OVERLAYS = {  # what a console page would pass for one dossier: its path, where it waits, counts, heat
    "nop_ho_so": {"highlight": "path"}, "f_nop_tra_cuu": {"highlight": "path"},
    "tra_cuu_dan_cu": {"highlight": "path"}, "f_tra_cuu_chu_ky": {"highlight": "path"},
    "kiem_tra_chu_ky": {"highlight": "path"}, "f_chu_ky_gw": {"highlight": "path"}, "gw_chu_ky": {"highlight": "path"},
    "f_chu_ky_hop_le": {"highlight": "path"}, "tiep_nhan": {"highlight": "waiting", "active": 1, "incidents": 1},
    "tham_dinh": {"active": 12, "heat": 1.0, "badge_text": "p90: 2 ngày 4 giờ"},
    "phe_duyet": {"active": 3, "heat": 0.4, "badge_text": "p90: 19 giờ"},
}
CASES = {
    "birth-registration-overlays": ((PROCESSES / "birth-registration" / "process.bpmn"), BIRTH_OVERLAYS),
    "construction-permit": ((PROCESSES / "construction-permit" / "process.bpmn"), None),
    "bizagi-2.8.0.8-C.1.0-roundtrip": ((HERE / "diagrams" / "bizagi-2.8.0.8-C.1.0-roundtrip.bpmn"), None),
    "camunda-modeler-4.11.1-cloud-1.3-all": ((HERE / "diagrams" / "camunda-modeler-4.11.1-cloud-1.3-all.bpmn"), None),
    "signavio-10.0.0-A.2.0-export": ((HERE / "diagrams" / "signavio-10.0.0-A.2.0-export.bpmn"), None),
}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    # collected before the page's own content runs; the policy does not apply to what Playwright injects
    page.add_init_script("window.violations = []; document.addEventListener('securitypolicyviolation', "
                         "e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    yield page
    context.close()


def show(page, svg: str) -> None:
    """Serve a console-like page with the SVG inline and the console's security headers."""
    html = f'<!doctype html><html lang="vi"><head><title>Sơ đồ</title></head><body>{svg}</body></html>'
    page.route(f"{ORIGIN}/**", lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8",
                                                          headers=dict(SECURITY_HEADERS), body=html))
    page.goto(f"{ORIGIN}/so-do")


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_diagram_draws_inline_under_the_console_policy(page, name):
    path, overlays = CASES[name]
    svg = diagram.render(path.read_bytes(), overlays)
    show(page, svg)
    drawing = page.locator("svg.bpmn-diagram")
    box = drawing.bounding_box()
    width = float(drawing.get_attribute("width"))
    assert box is not None and abs(box["width"] - width) < 1
    assert page.evaluate("window.violations") == []
    tasks = page.locator("svg.bpmn-diagram g[data-kind$='Task'], svg.bpmn-diagram g[data-kind='task']")
    assert tasks.count() > 0 and tasks.first.bounding_box()["width"] > 20
    if overlays:
        assert page.locator("[data-overlay-for='tham_dinh'] [data-overlay='active'] text").text_content() == "12"
    drawing.scroll_into_view_if_needed()
    screenshot(page, "diagrams", name)
