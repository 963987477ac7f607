"""The server-side diagram renderer: motcua's procedures and diagrams exported by other modelers (see
diagrams/README.md) all draw, every flow node with a shape appears, odd files degrade to labelled boxes,
text is escaped, overlays show, and a file without a diagram is refused with a clear error. The SVGs are
saved under var/test-artifacts/diagrams/ for a human to look at."""
from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from lxml import etree

from engine import dialect
from engine.errors import BadInput
from tests.conftest import ARTIFACTS, PROCESSES
from webapp.console import diagram
from webapp.console.diagram import overlay

HERE = Path(__file__).resolve().parent
CORPUS = sorted((HERE / "diagrams").glob("*.bpmn"))
OURS = sorted(PROCESSES.glob("*/process.bpmn"))
SVG = "{http://www.w3.org/2000/svg}"
MODEL, BPMNDI = dialect.BPMN_NS, "http://www.omg.org/spec/BPMN/20100524/DI"
FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
              "manualTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent", "endEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def drawn(svg: str) -> etree._Element:
    """The SVG parsed (fails the test if it is not well-formed XML)."""
    return etree.fromstring(svg.encode("utf-8"))


def element(root: etree._Element, element_id: str) -> etree._Element:
    (found,) = root.xpath("//*[@data-element-id=$id]", id=element_id)
    return found


def expected(data: bytes) -> tuple[set[str], set[str]]:
    """Read independently of the renderer: the flow nodes with a sized shape in the file's first diagram, and
    the sequence flows with at least two waypoints there."""
    root = dialect.parse_xml(data)
    kinds = {el.get("id"): etree.QName(el).localname for el in root.iter()
             if isinstance(el.tag, str) and etree.QName(el).namespace == MODEL and el.get("id")}
    plane = next(root.iter(f"{{{BPMNDI}}}BPMNDiagram"))
    nodes, flows = set(), set()
    for shape in plane.iter(f"{{{BPMNDI}}}BPMNShape"):
        bounds = next(c for c in shape if etree.QName(c).localname == "Bounds")
        if kinds.get(shape.get("bpmnElement")) in FLOW_NODES and float(bounds.get("width")) > 0:
            nodes.add(shape.get("bpmnElement"))
    for edge in plane.iter(f"{{{BPMNDI}}}BPMNEdge"):
        if kinds.get(edge.get("bpmnElement")) == "sequenceFlow" and len(edge.findall("{*}waypoint")) >= 2:
            flows.add(edge.get("bpmnElement"))
    return nodes, flows


def save(name: str, svg: str) -> None:
    folder = ARTIFACTS / "diagrams"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.svg").write_text(svg, encoding="utf-8")


@pytest.mark.parametrize("path", OURS + CORPUS, ids=lambda p: p.parent.name if p.name == "process.bpmn" else p.stem)
def test_every_diagram_draws_every_flow_node_and_flow(path):
    data = path.read_bytes()
    svg = diagram.render(data)
    save(path.parent.name if path.name == "process.bpmn" else path.stem, svg)
    root = drawn(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label")
    assert root.find(f"{SVG}title").text == root.get("aria-label")
    x, y, w, h = (float(v) for v in root.get("viewBox").split())
    assert w > 0 and h > 0
    nodes, flows = expected(data)
    ids = set(root.xpath("//@data-element-id"))
    assert nodes - ids == set() and flows - ids == set()
    assert not root.xpath("//*[local-name()='script' or local-name()='style' or local-name()='foreignObject']")
    assert not root.xpath("//@style | //@*[starts-with(local-name(), 'on')] | //@*[local-name()='href']")
    assert svg == diagram.render(data), "the same file must give the same SVG"


def test_the_corpus_covers_several_modelers():
    assert len(CORPUS) >= 6
    readme = (HERE / "diagrams" / "README.md").read_text(encoding="utf-8")
    for path in CORPUS:
        assert f"`{path.name}`" in readme, f"{path.name} needs its source and licence in the README"


def test_a_procedure_shows_names_lanes_and_markers():
    path = PROCESSES / "birth-registration" / "process.bpmn"
    root = drawn(diagram.render(path.read_bytes()))
    assert diagram.render(path.read_text(encoding="utf-8")) == diagram.render(path.read_bytes()), "text or bytes"
    label = "".join("".join(element(root, "tiep_nhan").itertext()).split())
    assert "".join("Kiểm tra, tiếp nhận hồ sơ".split()) in label
    assert element(root, "Lane_mot_cua").get("data-kind") == "lane"
    assert "Bộ phận Một cửa" in "".join(element(root, "Lane_mot_cua").itertext())
    assert element(root, "sp_xin_loi").xpath(".//*[@stroke-dasharray]"), "an event subprocess is dashed"
    assert element(root, "gw_tiep_nhan").xpath(".//*[local-name()='line']"), "an exclusive gateway has its X"
    flow = element(root, "f_tiep_nhan").find(f"{SVG}path")
    assert flow.get("marker-end", "").startswith("url(#") and flow.get("marker-end").endswith("-arrow)")


def test_another_diagram_of_a_file_can_be_drawn():
    data = (HERE / "diagrams" / "flowable-subprocess-multi-diagram.bpmn").read_bytes()
    assert [d for d, _ in diagram.diagrams(data)] == ["BPMNDiagram_process", "BPMNDiagram_subprocess1"]
    main = set(drawn(diagram.render(data)).xpath("//@data-element-id"))
    inner = set(drawn(diagram.render(data, diagram="BPMNDiagram_subprocess1")).xpath("//@data-element-id"))
    assert "userTask1" in main and "subUserTask1" not in main and "subUserTask1" in inner
    with pytest.raises(diagram.DiagramError, match="BPMNDiagram_9"):
        diagram.render(data, diagram="BPMNDiagram_9")


NS = (f'xmlns:bpmn="{MODEL}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
      'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:x="urn:example:vendor"')


def bpmn(process: str, shapes: dict[str, tuple], edges: dict[str, list] | None = None, extra: str = "") -> bytes:
    """A small BPMN file: the process's content and a diagram with the given bounds and waypoints."""
    di = "".join(f'<bpmndi:BPMNShape id="di_{i}" bpmnElement={quoteattr(k)}><dc:Bounds x="{b[0]}" y="{b[1]}" '
                 f'width="{b[2]}" height="{b[3]}"/></bpmndi:BPMNShape>' for i, (k, b) in enumerate(shapes.items()))
    di += "".join(f'<bpmndi:BPMNEdge id="de_{i}" bpmnElement={quoteattr(k)}>'
                  + "".join(f'<di:waypoint x="{x}" y="{y}"/>' for x, y in points) + "</bpmndi:BPMNEdge>"
                  for i, (k, points) in enumerate((edges or {}).items()))
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions {NS} id="defs" targetNamespace="urn:t">'
            f'<bpmn:process id="p" isExecutable="true">{process}</bpmn:process>{extra}'
            f'<bpmndi:BPMNDiagram id="D"><bpmndi:BPMNPlane id="P" bpmnElement="p">{di}</bpmndi:BPMNPlane>'
            f'</bpmndi:BPMNDiagram></bpmn:definitions>').encode("utf-8")


def test_elements_the_renderer_does_not_know_become_labelled_boxes():
    data = bpmn('<x:widget id="w1" name="Máy lạ"/><bpmn:choreographyTask id="c1" name="Vũ điệu"/>'
                '<bpmn:sequenceFlow id="f1" sourceRef="w1" targetRef="c1"/>',
                {"w1": (0, 0, 100, 80), "c1": (200, 0, 100, 80), "ghost": (400, 0, 120, 60)},
                {"f1": [(100, 40), (200, 40)], "nowhere": [(0, 200), (300, 200)]})
    root = drawn(diagram.render(data))
    for element_id, label in (("w1", "Máy lạ"), ("c1", "Vũ điệu"), ("ghost", "ghost")):
        box = element(root, element_id)
        assert box.get("data-kind") == "unknown" and box.find(f"{SVG}rect") is not None
        assert label in "".join(box.itertext())
    assert element(root, "nowhere").get("data-kind") == "unknown"
    activiti = drawn(diagram.render((HERE / "diagrams" / "activiti-designer-5.14.1-A.4.0-export.bpmn").read_bytes()))
    assert element(activiti, "textannotation1").get("data-kind") == "unknown"


def test_odd_but_valid_diagrams_draw_what_they_can():
    events = "".join(f'<bpmn:intermediateCatchEvent id="e_{k}"><bpmn:{k}EventDefinition/></bpmn:intermediateCatchEvent>'
                     for k in ("message", "timer", "error", "signal", "escalation", "conditional", "link",
                               "compensate", "cancel", "terminate"))
    data = bpmn(
        events + '<bpmn:endEvent id="multi"><bpmn:messageEventDefinition/><bpmn:signalEventDefinition/></bpmn:endEvent>'
        '<bpmn:complexGateway id="cx"/><bpmn:transaction id="tx"/><bpmn:adHocSubProcess id="ah"/>'
        '<bpmn:dataObjectReference id="dor" dataObjectRef="do"/><bpmn:dataObject id="do" isCollection="true"/>'
        '<bpmn:dataStoreReference id="ds" name="Kho"/><bpmn:task id="loop"><bpmn:standardLoopCharacteristics/>'
        '</bpmn:task><bpmn:task id="nobounds"/><bpmn:task id="flat"/><bpmn:task id="nan"/>'
        '<bpmn:sequenceFlow id="short" sourceRef="loop" targetRef="cx"/>'
        '<bpmn:sequenceFlow id="far" name="xa" sourceRef="loop" targetRef="cx"/>',
        {**{f"e_{k}": (i * 50, 0, 36, 36) for i, k in enumerate(
            ("message", "timer", "error", "signal", "escalation", "conditional", "link", "compensate", "cancel",
             "terminate"))},
         "multi": (0, 100, 36, 36), "cx": (100, 100, 50, 50), "tx": (200, 100, 100, 80), "ah": (350, 100, 100, 80),
         "dor": (0, 250, 36, 50), "ds": (100, 250, 50, 50), "loop": (200, 250, 100, 80), "flat": (0, 400, 0, 0),
         "nan": ("NaN", 0, 10, 10)},
        {"short": [(250, 250)], "far": [(300, 290), (1e12, 125)]},
        extra='<bpmn:process id="empty"/>')
    root = drawn(diagram.render(data))
    ids = set(root.xpath("//@data-element-id"))
    assert {"e_timer", "multi", "cx", "tx", "ah", "dor", "ds", "loop"} <= ids
    assert not {"nobounds", "flat", "nan", "short", "far"} & ids, "nothing to draw without coordinates"
    assert float(root.get("viewBox").split()[2]) < 2000, "coordinates beyond reason are ignored"


def test_a_file_without_a_diagram_is_refused_with_a_clear_error():
    no_di = (f'<bpmn:definitions {NS} id="d" targetNamespace="urn:t"><bpmn:process id="p">'
             '<bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>').encode()
    with pytest.raises(diagram.DiagramError, match="BPMNDI") as caught:
        diagram.render(no_di)
    assert isinstance(caught.value, BadInput) and caught.value.http_status == 400
    empty = bpmn('<bpmn:startEvent id="s"/>', {})
    cases = [(empty, "trống"), (b"<html><body/></html>", "BPMN 2.0"), (b"<bpmn:definitions", "không đọc được"),
             (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]><d>&e;</d>', "DOCTYPE"),
             (b'<a x="1" x="2"/>', "không đọc được")]
    for data, message in cases:
        with pytest.raises(diagram.DiagramError, match=message):
            diagram.render(data)


HOSTILE = '<script>alert("x")</script> & \'q\' "dq"'


def test_hostile_text_is_escaped_everywhere():
    name = quoteattr(HOSTILE)
    data = bpmn(f'<bpmn:laneSet id="ls"><bpmn:lane id="lane" name={name}/></bpmn:laneSet>'
                f'<bpmn:task id="t" name={name}/><bpmn:exclusiveGateway id="g" name={name}/>'
                f'<bpmn:sequenceFlow id="f" name={name} sourceRef="t" targetRef="g"/>'
                f'<bpmn:textAnnotation id="a"><bpmn:text>{HOSTILE.replace("&", "&amp;").replace("<", "&lt;")}'
                f'</bpmn:text></bpmn:textAnnotation>',
                {"lane": (0, 0, 600, 200), "t": (60, 40, 100, 80), "g": (250, 55, 50, 50), "a": (350, 20, 200, 60),
                 'x"><script>': (60, 150, 100, 40)},
                {"f": [(160, 80), (250, 80)]})
    svg = diagram.render(data, {"t": {"badge_text": HOSTILE, "active": 1}}, title=HOSTILE)
    root = drawn(svg)
    assert "<script" not in svg and not root.xpath("//*[local-name()='script']")
    assert root.get("aria-label") == HOSTILE and root.find(f"{SVG}title").text == HOSTILE
    for element_id in ("t", "g", "f", "lane"):
        text = "".join(element(root, element_id).itertext())
        assert "<script>" in text or "<script>" in "".join(text.split()), element_id
    assert element(root, 'x"><script>').get("data-kind") == "unknown"
    assert HOSTILE in "".join(root.xpath('//*[@data-overlay="badge"]')[0].itertext())


def test_overlays_draw_counts_path_waits_and_heat():
    data = (PROCESSES / "sample-residence" / "process.bpmn").read_bytes()
    overlays = {"Task_review": {"active": 3, "incidents": 2, "highlight": "waiting"},
                "Task_lookup": {"highlight": "path", "heat": 1.0, "badge_text": "p90: 2 giờ"},
                "Flow_to_lookup": {"highlight": "path"}, "Gateway_found": {"heat": 0.5},
                "not_in_diagram": {"active": 9}, "Task_approve": {"active": -4, "heat": "hot", "highlight": "x"},
                "End_approved": "nonsense"}
    root = drawn(diagram.render(data, overlays))
    (review,) = root.xpath('//*[@data-overlay-for="Task_review"]')
    assert review.xpath('string(.//*[@data-overlay="active"]//*[local-name()="text"])') == "3"
    assert review.xpath('string(.//*[@data-overlay="incidents"]//*[local-name()="text"])') == "2"
    assert review.xpath('.//*[@data-overlay="waiting"]')
    assert element(root, "Task_review").get("data-highlight") == "waiting"
    lookup = element(root, "Task_lookup")
    assert lookup.get("data-highlight") == "path"
    assert lookup.find(f"{SVG}rect").get("stroke") == overlay.PATH
    assert lookup.find(f"{SVG}rect").get("fill") == overlay.heat_colour(1.0) == "#ef4444"
    assert element(root, "Gateway_found").find(f"{SVG}polygon").get("fill") == overlay.heat_colour(0.5)
    flow = element(root, "Flow_to_lookup").find(f"{SVG}path")
    assert flow.get("stroke") == overlay.PATH and flow.get("marker-end").endswith("-arrow-path)")
    assert not root.xpath('//*[@data-overlay-for="not_in_diagram"] | //*[@data-overlay-for="Task_approve"]')
    assert element(root, "Task_approve").find(f"{SVG}rect").get("fill") == "#ffffff"
    assert not root.xpath('//*[@data-overlay-for="End_approved"]')


def test_heat_overlays_and_durations_read_as_an_officer_would():
    heat = diagram.heat_overlays({"a": 7200, "b": 3600, "c": 0, "bad": float("nan")}, label="p90")
    assert heat == {"a": {"heat": 1.0, "badge_text": "p90: 2 giờ"}, "b": {"heat": 0.5, "badge_text": "p90: 1 giờ"},
                    "c": {"heat": 0.0, "badge_text": "p90: < 1 phút"}}
    assert [diagram.duration_text(s) for s in (59, 45 * 60, 3 * 3600 + 600, 2 * 86400 + 4 * 3600, 86400)] == [
        "< 1 phút", "45 phút", "3 giờ 10 phút", "2 ngày 4 giờ", "1 ngày"]
    assert overlay.heat_colour(0.0) == "#ffffff"


def test_two_diagrams_on_one_page_do_not_share_marker_ids():
    first = drawn(diagram.render((PROCESSES / "sample-residence" / "process.bpmn").read_bytes()))
    second = drawn(diagram.render((PROCESSES / "dossier-apology" / "process.bpmn").read_bytes()))
    ids = [set(r.xpath("//@id")) for r in (first, second)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    named = drawn(diagram.render((PROCESSES / "dossier-apology" / "process.bpmn").read_bytes(), id_prefix="a b"))
    assert all(re.fullmatch(r"a-b-[\w-]+", i) for i in named.xpath("//@id"))
