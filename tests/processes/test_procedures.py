"""The procedure library: every procedure's scenarios pass and reach every element; each diagram is drawn in full
(what Camunda Modeler needs to open it) and its catalogue entry is complete."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from lxml import etree

from engine import dialect, dossiers, specs
from engine.scenarios import load_scenarios, run_procedure
from tests.conftest import FORMS, PROCESSES
from workers.runner import HANDLERS

B = f"{{{dialect.BPMN_NS}}}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
DD_DI = "{http://www.omg.org/spec/DD/20100524/DI}"
C = f"{{{dialect.CAMUNDA_NS}}}"
PROCEDURES = sorted(p for p in PROCESSES.iterdir() if (p / "scenarios").is_dir())
ROLES = ("Công dân", "Một cửa", "Chuyên viên", "Lãnh đạo")
TOPICS = {"population-lookup", "payment-check", "esign-verify", "notify", "document"}


def test_the_library_has_the_five_procedures():
    assert [p.name for p in PROCEDURES] == ["birth-registration", "certified-copy", "construction-permit",
                                            "criminal-record", "household-business"]


@pytest.mark.parametrize("folder", PROCEDURES, ids=lambda p: p.name)
def test_every_scenario_passes_and_together_they_reach_every_element(folder: Path):
    results, coverage = run_procedure(folder, FORMS, dict(HANDLERS), [PROCESSES / "dossier-apology"])
    assert len(results) >= 6
    failures = [f"{r.scenario.file}: {r.failure}" for r in results if not r.passed]
    assert not failures, "\n".join(failures)
    assert coverage.complete, "\n".join(coverage.lines())


def _root(folder: Path) -> etree._Element:
    return dialect.parse_xml((folder / "process.bpmn").read_bytes())


@pytest.mark.parametrize("folder", PROCEDURES, ids=lambda p: p.name)
def test_the_diagram_is_valid_bpmn_drawn_in_full_with_lanes_for_each_role(folder: Path):
    data = (folder / "process.bpmn").read_bytes()
    dmn = {p.name: p.read_bytes() for p in folder.glob("*.dmn")}
    specs.build_parser({"process.bpmn": data}, dmn, validate=True)  # the BPMN 2.0 schema
    root = _root(folder)
    drawn = {el.get("bpmnElement"): el for el in root.iter(f"{DI}BPMNShape", f"{DI}BPMNEdge")}
    process = root.find(f"{B}process")
    for el in process.iter():
        if not isinstance(el.tag, str) or not el.get("id") or not el.tag.startswith(B):
            continue
        tag = etree.QName(el).localname
        if tag in ("sequenceFlow",):
            assert len(drawn[el.get("id")].findall(f"{DD_DI}waypoint")) >= 2, el.get("id")
        elif tag in ("lane", "subProcess") or tag.endswith(("Task", "Event", "Gateway")):
            assert drawn[el.get("id")].find(f"{DC}Bounds") is not None, f"{el.get('id')} is not drawn"
    lanes = {lane.get("name"): {ref.text for ref in lane.findall(f"{B}flowNodeRef")} for lane in process.iter(f"{B}lane")}
    assert all(any(role in name for name in lanes) for role in ROLES), lanes
    top_level = [el.get("id") for el in process if etree.QName(el).localname not in ("laneSet", "sequenceFlow")
                 and isinstance(el.tag, str)]
    assert all(sum(node in refs for refs in lanes.values()) == 1 for node in top_level)


@pytest.mark.parametrize("folder", PROCEDURES, ids=lambda p: p.name)
def test_the_lifecycle_sets_the_dossier_statuses_and_uses_the_worker_topics(folder: Path):
    root = _root(folder)
    statuses = {int(p.get("value")) for p in root.iter(f"{C}property") if p.get("name") == "dossier_status"}
    assert set(range(1, 11)) - {1} <= statuses  # 1 is also where a new dossier starts
    topics = {t.get(f"{C}topic") for t in root.iter(f"{B}serviceTask")}
    assert TOPICS <= topics
    clock = {p.get("value") for p in root.iter(f"{C}property") if p.get("name") == "dossier_clock"}
    assert clock == {"pause", "delivered", "extend"}
    names = {m.get("name") for m in root.iter(f"{B}message")}
    assert {"payment_received", "dossier_due_soon", "dossier_withdrawn"} <= names


@pytest.mark.parametrize("folder", PROCEDURES, ids=lambda p: p.name)
def test_the_catalogue_entry_is_complete_and_says_what_is_unverified(folder: Path):
    entry = tomllib.loads((folder / "procedure.toml").read_text(encoding="utf-8"))
    for key in ("code", "name", "field", "agency", "level", "process_key", "start_form", "deadline", "result",
                "documents", "legal_basis", "unverified"):
        assert entry.get(key) not in (None, "", []) or key == "unverified", f"{folder.name}: {key} is missing"
    assert isinstance(entry["unverified"], list)
    assert entry["level"] in ("toan-trinh", "mot-phan")
    assert entry["process_key"] == _root(folder).find(f"{B}process").get("id")
    assert (FORMS / f"{entry['start_form']}.json").exists()
    deadline = entry["deadline"]
    assert deadline["unit"] in dossiers.UNITS and deadline["online"] > 0 and deadline.get("counter", 1) > 0
    assert len(load_scenarios(folder)) >= 6
