"""Deploy-time checks of a diagram's sequence flows as a graph.

Every sequence flow and flow node needs an id: a flow written by hand without one (Camunda 7 makes one up) was taken
by SpiffWorkflow for the same flow as every other such flow, and the instance completed at once, having done
nothing. Such an element is refused at deploy (:func:`problems`).

A parallel gateway joins when a token has arrived on every incoming flow. If one of those flows can only be
reached by going through the gateway itself (a loop drawn back into a parallel join), the gateway waits for a
token that can only come after it has fired: the instance would wait there forever, and SpiffWorkflow, asked
to run such a diagram, recurses until Python stops it. Such a join is refused at deploy; a loop merges with an
exclusive gateway.
"""
from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

B = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task", "userTask",
    "serviceTask", "sendTask", "receiveTask", "scriptTask", "businessRuleTask", "manualTask", "callActivity",
    "subProcess", "transaction", "adHocSubProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway",
})


def problems(process: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(element, message) for every sequence flow or flow node of ``process`` without an id, then every dead join
    (:func:`dead_joins`)."""
    for el in process.iter(f"{B}sequenceFlow", *(f"{B}{tag}" for tag in _NODES)):
        if (el.get("id") or "").strip():
            continue
        tag = etree.QName(el).localname
        what = (f"the sequence flow from '{el.get('sourceRef')}' to '{el.get('targetRef')}'" if tag == "sequenceFlow"
                else f"this {tag}{' ' + repr(el.get('name')) if el.get('name') else ''}")
        example = f"{tag[0].upper()}{tag[1:]}_1"
        yield el, (f"{what} has no id, and motcua tells elements apart by their id: open the file in Camunda Modeler "
                   f"and save it (the modeler gives every element an id), or write one, such as id=\"{example}\"")
    yield from dead_joins(process)


def dead_joins(process: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """(gateway, message) for every parallel join in ``process`` or its subprocesses that waits for a flow only
    the gateway itself can lead to."""
    for scope in [process, *process.iter(f"{B}subProcess", f"{B}transaction", f"{B}adHocSubProcess")]:
        if scope.get("triggeredByEvent") == "true":
            continue  # an event subprocess starts from its event, not from flows
        yield from _scope_dead_joins(scope)


def _scope_dead_joins(scope: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    flows = [(f.get("sourceRef"), f.get("targetRef")) for f in scope.findall(f"{B}sequenceFlow")]
    nodes = {el.get("id"): el for el in scope if isinstance(el.tag, str) and el.get("id")}
    edges: dict[str, list[str]] = {}
    for source, target in flows:
        edges.setdefault(source, []).append(target)
    for el in scope.findall(f"{B}boundaryEvent"):  # a boundary event is reached with the task it is attached to
        edges.setdefault(el.get("attachedToRef"), []).append(el.get("id"))
    reached_by = {target for targets in edges.values() for target in targets}
    # where tokens enter the scope: its start events and anything no flow leads to (a link's catch event, say)
    entries = [node_id for node_id, el in nodes.items()
               if node_id not in reached_by and not el.tag.endswith("sequenceFlow")]
    for gateway_id, gateway in nodes.items():
        if gateway.tag != f"{B}parallelGateway":
            continue
        sources = [source for source, target in flows if target == gateway_id]
        if len(sources) < 2:
            continue
        reachable = _reachable(entries, edges, without=gateway_id)
        for source in sources:
            if source not in reachable:
                yield gateway, (f"the parallel gateway waits for a token from '{source}', which can only be reached "
                                "through the gateway itself: it would wait forever (merge a loop with an exclusive "
                                "gateway, not a parallel one)")
                break


def _reachable(entries: list[str], edges: dict[str, list[str]], without: str) -> set[str]:
    seen: set[str] = set()
    todo = [e for e in entries if e != without]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(t for t in edges.get(node, ()) if t != without and t not in seen)
    return seen
