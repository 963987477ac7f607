"""Serializing workflows with the spec by reference.

SpiffWorkflow embeds the whole parsed spec in every serialization (78 % of the bytes). Stored process
definitions never change, so the engine stores only the state and, on load, hands the converter the
spec it already parsed and cached for the instance's definition.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.task_spec import MultiInstanceTaskConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition as SpiffErrorEventDefinition
from SpiffWorkflow.camunda.serializer.event_definition import MessageEventDefinitionConverter

from engine import dialect, error_events, multi_instance, timer_events

FORMAT = "motcua-1"  # stamped on every stored state, beside SpiffWorkflow's own serializer_version


class SpecByReferenceConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; reads one back with the specs it is given."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        if spec is None:
            return super().from_dict(dct)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict:
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = SpecByReferenceConverter
    # the dialect's message events appear in state (an event-based gateway keeps the events it has seen); they
    # store as Camunda's and come back as the dialect's (the last registration of a type name wins)
    config[dialect.MessageEventDefinition] = MessageEventDefinitionConverter
    config[error_events.ErrorEventDefinition] = config[SpiffErrorEventDefinition]  # the same, for errors
    for spiff_class, motcua_class in timer_events.TIMER_CLASSES.items():  # the same, for timers
        config[motcua_class] = config[spiff_class]
    for motcua_class in multi_instance.MULTI_INSTANCE_CLASSES.values():  # and multi-instance activities
        config[motcua_class] = MultiInstanceTaskConverter
    return config


def _registry():
    registry = BpmnWorkflowSerializer.configure(_config())
    # Dates and decimals come from forms and workers; SpiffWorkflow cannot store them by default.
    registry.register(dt.date, lambda v: {"value": v.isoformat()}, lambda d: dt.date.fromisoformat(d["value"]))
    registry.register(decimal.Decimal, lambda v: {"value": str(v)}, lambda d: decimal.Decimal(d["value"]))
    return registry


class StateSerializer:
    """Turns workflows into stored state and back."""

    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """The workflow's state as JSON, without its specs."""
        serializer = self._serializer
        serializer.registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
        finally:
            serializer.registry._encoder_mode = False
        dct[serializer.VERSION_KEY] = serializer.VERSION
        dct["motcua_format"] = FORMAT
        try:
            return json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"), allow_nan=False)
        except ValueError:  # NaN or infinity somewhere in the data: store them as null
            return json.dumps(_finite(dct), cls=serializer._encoder_cls, separators=(",", ":"))

    def loads(self, state: str, spec, subprocess_specs) -> BpmnWorkflow:
        """Rebuild a workflow from stored state and the specs of its definition."""
        dct = json.loads(state)
        dct.pop("motcua_format", None)
        self._serializer.migrate(dct)
        return self._serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)


def _plain_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    return None


def _finite(value: Any) -> Any:
    """Replace NaN and infinities, which JSON (and PostgreSQL's json) cannot hold, by None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def dumps_variables(variables: dict) -> str:
    """Variables as a JSON text for projection columns (dates as ISO strings, NaN as null)."""
    try:
        return json.dumps(variables, default=_plain_default, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(variables), default=_plain_default, separators=(",", ":"))
