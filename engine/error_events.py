"""Error events that keep what they caught, as Camunda's ``camunda:errorCodeVariable`` and
``camunda:errorMessageVariable`` do.

An error boundary event (or an error start event of an event subprocess) may name a variable for the code of the
error it catches and one for its message: a worker's ``handleBpmnError`` ("không tìm thấy trong cơ sở dữ liệu dân
cư") can then be shown to the officer whose task follows. SpiffWorkflow reads neither attribute; here the catching
event puts both into the data it hands on, beside the variables the error carried.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition as SpiffErrorEvent

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"


class ErrorEventDefinition(SpiffErrorEvent):
    """An error event definition; as a catch event, it may name variables for the caught code and message. Thrown
    by a worker, it carries the worker's message."""

    def __init__(self, name, code=None, code_variable=None, message_variable=None, message=None, **kwargs):
        super().__init__(name, code, **kwargs)
        self.code_variable = code_variable
        self.message_variable = message_variable
        self.message = message

    def catch(self, my_task, event=None):
        """Keep the error's variables, and its code and message under the names this event gives them."""
        super().catch(my_task, event)
        if not (self.code_variable or self.message_variable):
            return
        payload = dict(my_task.internal_data.get(self.name) or {})
        thrown = event.event_definition
        if self.code_variable:
            payload[self.code_variable] = getattr(thrown, "code", None)
        if self.message_variable:
            payload[self.message_variable] = getattr(thrown, "message", None)
        my_task.internal_data[self.name] = payload


class ErrorEvents:
    """Mixed into the event parsers so error events get :class:`ErrorEventDefinition`, with Camunda's variables."""

    def parse_error_event(self, error_event):
        parsed = super().parse_error_event(error_event)
        return ErrorEventDefinition(parsed.name, parsed.code, description=parsed.description,
                                    code_variable=_name(error_event.get(f"{{{CAMUNDA_NS}}}errorCodeVariable")),
                                    message_variable=_name(error_event.get(f"{{{CAMUNDA_NS}}}errorMessageVariable")))


def _name(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None
