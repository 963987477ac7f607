"""Every procedure diagram opens in bpmn-js — the library Camunda Modeler is built on — with no import warning
(unknown elements or attributes, unresolved references, elements without a shape), drawn in headless Chromium.
A screenshot of each diagram is saved under var/test-artifacts/modeler/."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, PROCESSES, require_js
DIAGRAMS = sorted(p / "process.bpmn" for p in PROCESSES.iterdir() if (p / "process.bpmn").exists())


@pytest.fixture(scope="module")
def modeler_page(browser, tmp_path_factory):
    """A page with Camunda Modeler's bpmn-js and the Camunda extension loaded, ready to import diagrams."""
    bundle = require_js("bpmn-js") / "dist"
    camunda = (require_js("camunda-bpmn-moddle") / "resources" / "camunda.json").read_text(encoding="utf-8")
    page_file = tmp_path_factory.mktemp("modeler") / "modeler.html"
    page_file.write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(bundle / 'assets' / 'diagram-js.css').as_uri()}">
<link rel="stylesheet" href="{(bundle / 'assets' / 'bpmn-js.css').as_uri()}">
<link rel="stylesheet" href="{(bundle / 'assets' / 'bpmn-font' / 'css' / 'bpmn.css').as_uri()}">
<style>html, body, #canvas {{ margin: 0; width: 100%; height: 100%; background: white; }}</style>
<script src="{(bundle / 'bpmn-modeler.production.min.js').as_uri()}"></script></head>
<body><div id="canvas"></div><script>
window.modeler = new BpmnJS({{container: '#canvas', moddleExtensions: {{camunda: {camunda}}}}});
</script></body></html>""", encoding="utf-8")
    context = browser.new_context(viewport={"width": 2400, "height": 1100})
    page = context.new_page()
    page.goto(page_file.as_uri())
    page.wait_for_function("window.modeler !== undefined")
    yield page
    context.close()


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda p: p.parent.name)
def test_the_diagram_opens_in_the_modeler_without_warnings(modeler_page, diagram: Path):
    result = modeler_page.evaluate("""async (xml) => {
        try {
            const {warnings} = await window.modeler.importXML(xml);
            window.modeler.get('canvas').zoom('fit-viewport');
            const registry = window.modeler.get('elementRegistry');
            return {warnings: warnings.map(w => w.message), shapes: registry.getAll().length};
        } catch (err) {
            return {error: String(err), warnings: (err.warnings || []).map(w => w.message)};
        }
    }""", diagram.read_text(encoding="utf-8"))
    assert "error" not in result, result
    assert result["warnings"] == [], json.dumps(result["warnings"], ensure_ascii=False, indent=1)
    assert result["shapes"] > 10
    ARTIFACTS.joinpath("modeler").mkdir(parents=True, exist_ok=True)
    modeler_page.screenshot(path=str(ARTIFACTS / "modeler" / f"{diagram.parent.name}.png"))
