"""What Camunda Modeler draws that motcua does not run: Camunda extensions, messages a process throws, processes
started by a message or a signal, and event subprocesses started by a timer.

A listener, a generated form, a script's result variable or a message thrown to another process that deployed and
then silently did nothing would leave a procedure that looks right in the modeler and misbehaves in the province: a
notification never sent, an officer's task with no form, a variable never set, an agency never told. An event
subprocess started by a timer ran as a branch started with the process: an interrupting one interrupted nothing, and
a non-interrupting one kept a process whose flow had ended waiting for the timer, then opened its tasks. A process
whose start event catches a message or a signal was not started by it (an instance started otherwise waited at its
start event, with no task to show). Each is refused at deploy with what to draw instead.
"""
from __future__ import annotations

from lxml import etree

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
INITIATOR = f"{{{CAMUNDA_NS}}}initiator"

REFUSED = {
    "executionListener": "execution listeners are not run by motcua: do their work in the flow, with a service task "
                         "(a worker) or a script task",
    "taskListener": "task listeners are not run by motcua: do their work in the flow, with a service task (a worker) "
                    "or a script task before or after the user task",
    "formData": "generated forms (camunda:formData) are not read by motcua: give the task a form key, a JSON Schema "
                "file in forms/ (docs/analyst.md, Forms)",
}
# tasks whose camunda:inputParameter motcua reads (given to the worker as variables of that task alone)
READS_INPUTS = frozenset({"serviceTask", "sendTask"})


def problems(el: etree._Element) -> list[tuple[etree._Element, str]]:
    """(element, message) for each Camunda extension of ``el`` that motcua would not run."""
    tag = etree.QName(el).localname
    found = []
    if el.tag.startswith(f"{{{CAMUNDA_NS}}}"):
        if tag in REFUSED:
            found.append((el, REFUSED[tag]))
        elif tag == "inputOutput":
            owner = el.getparent().getparent() if el.getparent() is not None else None
            kind = etree.QName(owner).localname if owner is not None else ""
            if kind not in READS_INPUTS:
                found.append((el, f"input and output parameters are read only on service tasks (given to the "
                                  f"worker), not on a {kind or 'this element'}: set the variable before it, in a "
                                  "script task or the form that comes first"))
    elif tag == "startEvent" and not (el.get(INITIATOR) or "x").strip().isidentifier():
        found.append((el, f"camunda:initiator '{el.get(INITIATOR)}' must be a variable name (such as starter): the "
                          "variable that gets the name of who started the instance"))
    elif tag in ("intermediateThrowEvent", "endEvent") and el.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None:
        found.append((el, "motcua does not deliver a message a process throws (to another dossier or outside): to tell "
                          "another agency or system, use a service task (a worker) before a plain event; to wait for "
                          "an answer, a message catch event"))
    elif tag == "startEvent" and _in_event_subprocess(el) and el.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None:
        found.append((el, "an event subprocess started by a timer is not run by motcua: put the steps the timer "
                          "watches in a subprocess and attach a boundary timer to it (non-interrupting if they go on), "
                          "or wait for the timer in a parallel branch"))
    elif tag == "startEvent" and _starts_a_process(el):
        kind = "message" if el.find(f"{{{BPMN_NS}}}messageEventDefinition") is not None else "signal"
        found.append((el, f"a process started by a {kind} is not run by motcua (the {kind} would not start an "
                          "instance; one started otherwise would wait at its start event): use a plain start event, "
                          f"and an intermediate {kind} catch event after it if the process must wait for the {kind}"))
    elif tag == "businessRuleTask":
        found.extend((el, message) for message in _decision_result_problems(el))
    elif tag == "scriptTask" and el.get(f"{{{CAMUNDA_NS}}}resultVariable"):
        name = el.get(f"{{{CAMUNDA_NS}}}resultVariable")
        found.append((el, f"camunda:resultVariable is not read by motcua: assign the variable in the script itself "
                          f"({name} = ...)"))
    return found


def _starts_a_process(el: etree._Element) -> bool:
    """A start event of the process itself (not of a subprocess) with a message or signal definition."""
    parent = el.getparent()
    return parent is not None and etree.QName(parent).localname == "process" and any(
        el.find(f"{{{BPMN_NS}}}{d}") is not None for d in ("messageEventDefinition", "signalEventDefinition"))


def _in_event_subprocess(el: etree._Element) -> bool:
    parent = el.getparent()
    return parent is not None and etree.QName(parent).localname == "subProcess" and \
        parent.get("triggeredByEvent") == "true"


MAP_DECISION_RESULT = ("singleEntry", "singleResult", "collectEntries", "resultList")


def _decision_result_problems(el: etree._Element) -> list[str]:
    variable = el.get(f"{{{CAMUNDA_NS}}}resultVariable")
    how = el.get(f"{{{CAMUNDA_NS}}}mapDecisionResult")
    found = []
    if variable is not None and not variable.strip().isidentifier():
        found.append(f"camunda:resultVariable '{variable}' must be a variable name (such as fee)")
    if how is not None and how.strip() not in MAP_DECISION_RESULT:
        found.append(f"camunda:mapDecisionResult '{how}' is not one of {', '.join(MAP_DECISION_RESULT)}")
    elif how is not None and variable is None:
        found.append("camunda:mapDecisionResult maps the result into camunda:resultVariable, which is not set: set "
                     "it, or remove both to have each output in the variable of its name")
    return found
