"""Business rule tasks: a DMN decision table's hit policy, applied as DMN 1.3 and Camunda 7 define it.

SpiffWorkflow 3.2 knows two hit policies: ``UNIQUE`` (which it runs as FIRST) and ``COLLECT`` (without its
aggregations); every other policy quietly runs as FIRST. It also deep-merges the outputs into the task data,
so an output list is merged into the list a variable already holds (``[5, 5]`` over ``[1, 2, 3]`` gave
``[1, 2]``) and an output dict keeps the old keys. Here:

* ``UNIQUE``: more than one matching rule is an error (an incident on the task), not the first of them;
* ``ANY``: the matching rules must give the same outputs, else an error; ``FIRST``: the first one;
* ``COLLECT`` and ``RULE ORDER``: each output becomes the list of the matching rules' values, in rule order;
  ``COLLECT`` with an aggregation (``SUM``, ``MIN``, ``MAX``, ``COUNT``) gives one value instead;
* no rule matching sets each output to ``None`` (an empty list for the lists, 0 for ``COUNT``), as Camunda's
  null result, so a variable never keeps a value from an earlier round of the same table;
* an output replaces the variable of its name; an output named ``a.b`` sets the key ``b`` of the dict ``a``;
* with ``camunda:resultVariable``, as in Camunda, the result goes to that one variable instead, shaped by
  ``camunda:mapDecisionResult`` (:meth:`DecisionEngine.mapped`).

``PRIORITY`` and ``OUTPUT ORDER`` need the outputs' value lists, which motcua does not read: deploy refuses
them (:mod:`engine.dmn_checks`).
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser as CamundaBusinessRuleTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask as CamundaBusinessRuleTask
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import storable

AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")


class DecisionEngine(DMNEngine):
    """SpiffWorkflow's DMN engine with every hit policy motcua runs, and COLLECT's aggregations."""

    def __init__(self, decision_table, aggregation: str | None = None):
        super().__init__(decision_table)
        self.aggregation = (aggregation or "").upper() or None

    def matching_rules(self, task) -> list:
        """Every rule whose input entries all hold, in the table's order."""
        return [rule for rule in self.decision_table.rules if self._DMNEngine__check_rule(rule, task)]

    def names(self) -> list[str]:
        """The names of the table's outputs, in order."""
        return [output.name or output.label for output in self.decision_table.outputs]

    def entries(self, task) -> list[dict[str, Any]]:
        """The decision's result as Camunda gives it: one entry (output name → value) per rule the hit policy
        keeps, in rule order; with an aggregation, one entry of the aggregated values."""
        policy, names = self.decision_table.hit_policy, self.names()
        rules = self.matching_rules(task)
        values = [_rule_outputs(rule, task) for rule in rules]
        if policy in ("COLLECT", "RULE ORDER"):
            if self.aggregation:
                return [{name: _aggregate(self.aggregation, [v[name] for v in values if name in v]) for name in names}]
            return values
        if policy == "UNIQUE" and len(values) > 1:
            raise _table_error(task, f"hit policy UNIQUE, but rules {_rows(rules)} all match: change the rules so "
                                     "that at most one matches, or use the hit policy FIRST")
        if policy == "ANY" and any(v != values[0] for v in values[1:]):
            raise _table_error(task, f"hit policy ANY, but the matching rules {_rows(rules)} give different outputs: "
                                     "make them agree, or use the hit policy FIRST")
        return values[:1]

    def outputs(self, task) -> dict[str, Any]:
        """The value of each output (by its name) under the table's hit policy: each a list of the matching rules'
        values for COLLECT and RULE ORDER without an aggregation; None when no rule matches."""
        entries, names = self.entries(task), self.names()
        if self.decision_table.hit_policy in ("COLLECT", "RULE ORDER") and not self.aggregation:
            return {name: [v[name] for v in entries if name in v] for name in names}
        return entries[0] if entries else {name: None for name in names}

    def mapped(self, task, how: str) -> Any:
        """The result as ``camunda:mapDecisionResult`` maps it into ``camunda:resultVariable``: ``singleEntry``
        (the one output of the one entry), ``singleResult`` (the one entry), ``collectEntries`` (the one output of
        every entry) or ``resultList`` (every entry)."""
        entries, names = self.entries(task), self.names()
        if how == "resultList":
            return entries
        if how in ("singleEntry", "collectEntries") and len(names) != 1:
            raise _table_error(task, f"mapDecisionResult {how} needs a table with one output; this one has "
                                     f"{len(names)} ({', '.join(names)}): use singleResult or resultList")
        if how == "collectEntries":
            return [entry[names[0]] for entry in entries]
        if len(entries) > 1:
            raise _table_error(task, f"mapDecisionResult {how} needs at most one result, but {len(entries)} rules "
                                     "match: use collectEntries or resultList, or a hit policy that keeps one")
        if not entries:
            return None
        return entries[0][names[0]] if how == "singleEntry" else entries[0]


def _rule_outputs(rule, task) -> dict[str, Any]:
    """A matching rule's outputs by the output's full name (SpiffWorkflow's own nests ``a.b`` into a dict)."""
    script_engine = task.workflow.script_engine
    found: dict[str, Any] = {}
    for entry in rule.outputEntries:
        text = getattr(entry, "text", "")
        found[entry.output.name or entry.output.label] = script_engine.evaluate(task, text) if text else ""
    return found


def _aggregate(aggregation: str, values: list) -> Any:
    if aggregation == "COUNT":
        return len(values)
    if not values:
        return None
    try:
        return {"SUM": sum, "MIN": min, "MAX": max}[aggregation](values)
    except TypeError as err:
        raise ValueError(f"COLLECT {aggregation} needs numbers; the matching rules gave {values!r}") from err


def _rows(rules) -> str:
    return ", ".join(str(rule.row_number) for rule in rules)


def _table_error(task, message: str) -> WorkflowTaskException:
    return WorkflowTaskException(f"Decision table: {message}", task=task)


def assign(data: dict, outputs: dict[str, Any]) -> None:
    """Put each output into the task data, replacing the variable of its name (or the key of a dotted name)."""
    for name, value in outputs.items():
        *path, last = name.split(".") if "." in name else [name]
        target = data
        for key in path:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[last] = value


class BusinessRuleTask(CamundaBusinessRuleTask):
    """A business rule task whose outputs replace variables instead of being deep-merged into them; with
    ``camunda:resultVariable``, the result goes to that variable alone, mapped as ``camunda:mapDecisionResult`` says
    (Camunda's default ``resultList``)."""

    def __init__(self, wf_spec, name, dmnEngine, result_variable=None, map_decision_result=None, **kwargs):
        super().__init__(wf_spec, name, dmnEngine, **kwargs)
        self.result_variable = result_variable
        self.map_decision_result = map_decision_result or "resultList"

    def _run_hook(self, my_task):
        engine = self.dmnEngine
        try:
            if self.result_variable:
                outputs = {self.result_variable: engine.mapped(my_task, self.map_decision_result)}
            else:
                outputs = engine.outputs(my_task) if isinstance(engine, DecisionEngine) else engine.result(my_task)
            for name, value in outputs.items():
                storable.check(name, value)
            assign(my_task.data, outputs)
        except SpiffWorkflowException as err:
            err.add_note(f"Business Rule Task '{my_task.task_spec.bpmn_name or my_task.task_spec.bpmn_id}'.")
            raise
        except Exception as err:
            error = WorkflowTaskException(str(err), task=my_task, exception=err)
            error.add_note(f"Business Rule Task '{my_task.task_spec.bpmn_name or my_task.task_spec.bpmn_id}'.")
            raise error from err
        return True


class BusinessRuleTaskParser(CamundaBusinessRuleTaskParser):
    """Builds :class:`BusinessRuleTask` with a :class:`DecisionEngine`."""

    def create_task(self):
        decision_ref = self.get_decision_ref(self.node)
        return BusinessRuleTask(self.spec, self.bpmn_id,
                                dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
                                result_variable=(self.attribute("resultVariable", "camunda") or "").strip() or None,
                                map_decision_result=(self.attribute("mapDecisionResult", "camunda") or "").strip(),
                                **self.bpmn_attributes)


def engine_for(dmn_parser) -> DecisionEngine:
    """The engine of a parsed DMN file's decision, with the aggregation SpiffWorkflow does not read."""
    dmn_parser.parse()
    table_elements = dmn_parser.xpath(".//dmn:decision[1]/dmn:decisionTable")
    aggregation = table_elements[0].get("aggregation") if table_elements else None
    return DecisionEngine(dmn_parser.decision.decisionTables[0], aggregation)
