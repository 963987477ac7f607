"""Small BPMN documents for tests, written the way Camunda Modeler writes them."""
from __future__ import annotations

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://test">\n')


def process(body: str, process_id: str = "p", executable: bool = True, extra: str = "") -> bytes:
    """A definitions document with one process."""
    return (HEADER + extra + f'<bpmn:process id="{process_id}" isExecutable="{"true" if executable else "false"}">\n'
            + body + "\n</bpmn:process>\n</bpmn:definitions>\n").encode()


def flow(flow_id: str, source: str, target: str, condition: str | None = None) -> str:
    """A sequence flow, with an optional condition expression."""
    if condition is None:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            f'</bpmn:sequenceFlow>')


def linear(*elements: tuple[str, str]) -> str:
    """Elements (id, xml) joined by sequence flows in the order given."""
    parts = [xml for _, xml in elements]
    ids = [element_id for element_id, _ in elements]
    parts += [flow(f"f{i}", a, b) for i, (a, b) in enumerate(zip(ids, ids[1:]))]
    return "\n".join(parts)


def start(element_id: str = "start") -> tuple[str, str]:
    """A none start event."""
    return element_id, f'<bpmn:startEvent id="{element_id}"/>'


def end(element_id: str = "end") -> tuple[str, str]:
    """A none end event."""
    return element_id, f'<bpmn:endEvent id="{element_id}"/>'


def user_task(element_id: str, groups: str = "staff", extra: str = "") -> tuple[str, str]:
    """A user task for candidate groups."""
    return element_id, f'<bpmn:userTask id="{element_id}" name="Task {element_id}" camunda:candidateGroups="{groups}" {extra}/>'


def external(element_id: str, topic: str = "work", inner: str = "") -> tuple[str, str]:
    """An external service task."""
    return element_id, (f'<bpmn:serviceTask id="{element_id}" camunda:type="external" camunda:topic="{topic}">'
                        f'{inner}</bpmn:serviceTask>')


def script(element_id: str, code: str) -> tuple[str, str]:
    """A Python script task."""
    return element_id, (f'<bpmn:scriptTask id="{element_id}" scriptFormat="python"><bpmn:script>{code}'
                        f'</bpmn:script></bpmn:scriptTask>')
