"""What a handler raises to steer its task instead of returning variables."""
from __future__ import annotations

from typing import Any


class BpmnError(Exception):
    """A business error: the process's error boundary event with this code takes over."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None):
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = variables or {}


class RetryableError(Exception):
    """A passing failure (a timeout, a 503): the task is tried again later."""
