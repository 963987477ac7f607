"""The engine's one exception hierarchy.

Every error the engine raises on purpose is a :class:`MotcuaError`. Each class names the HTTP status
and the command-line exit code it maps to, so the web app and the CLI translate errors in one place
and never by matching messages.
"""
from __future__ import annotations

from dataclasses import dataclass


class MotcuaError(Exception):
    """Something went wrong in the engine."""

    http_status = 500
    exit_code = 1
    code = "internal"

    def __init__(self, message: str | None = None):
        super().__init__(message or (self.__doc__ or self.__class__.__name__).strip())

    @property
    def message(self) -> str:
        """The sentence shown to the person who caused the error."""
        return str(self.args[0])

    def to_dict(self) -> dict:
        """A JSON-friendly description of the error."""
        return {"type": self.__class__.__name__, "code": self.code, "message": self.message}


class BadInput(MotcuaError):
    """The request is not valid."""

    http_status = 400
    exit_code = 2
    code = "bad_input"


class NotFound(BadInput):
    """The thing asked for does not exist."""

    http_status = 404
    code = "not_found"


class Forbidden(BadInput):
    """The caller may not do this."""

    http_status = 403
    code = "forbidden"


class TaskHeldByAnother(Forbidden):
    """The task is claimed by someone else: only they (or an operator) may work on it or give it back."""

    def __init__(self, message: str, assignee: str):
        self.assignee = assignee
        super().__init__(message)


class NotACandidate(Forbidden):
    """The caller is in none of the groups (nor among the users) that may work on the task."""


class InvalidVariables(BadInput):
    """The variables given are not valid."""

    code = "invalid_variables"


@dataclass
class FieldError:
    """One form field that failed validation."""

    field: str
    message: str


class FormValidationFailed(BadInput):
    """The form data does not satisfy the task's form."""

    code = "form_invalid"

    def __init__(self, errors: list[FieldError], message: str | None = None):
        self.errors = errors
        text = message or "The form has errors: " + "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(text)

    def to_dict(self) -> dict:
        """Add the per-field errors to the description."""
        return {**super().to_dict(), "errors": [e.__dict__ for e in self.errors]}


class ExpressionRefused(BadInput):
    """The expression is not allowed by the sandbox."""

    code = "expression_refused"

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(message)


@dataclass
class Problem:
    """One thing wrong with a file offered for deployment."""

    file: str
    message: str
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"  # "error" refuses the deployment, "warning" does not

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element_id:
            where += f" [{self.element_id}]"
        return f"{where}: {self.message}"


class DeploymentRefused(BadInput):
    """The deployment was refused."""

    code = "deployment_refused"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("Deployment refused:\n" + "\n".join(f"  {p}" for p in errors))

    def to_dict(self) -> dict:
        """Add every problem, with file, element and line."""
        return {**super().to_dict(), "problems": [p.__dict__ for p in self.problems]}


class ServiceUnavailable(MotcuaError):
    """A service motcua depends on is not configured or not reachable."""

    http_status = 503
    code = "unavailable"


class Conflict(MotcuaError):
    """The request conflicts with the current state."""

    http_status = 409
    code = "conflict"


class TaskNotActive(Conflict):
    """The task is no longer waiting for this action: someone else may have completed it."""

    code = "task_not_active"


class TaskAlreadyClaimed(TaskNotActive):
    """Someone else claimed the task first."""

    def __init__(self, message: str, assignee: str):
        self.assignee = assignee
        super().__init__(message)


class SupplementLimitReached(Conflict):
    """The dossier has had the supplement requests it is allowed (one, unless a leader allows more)."""

    code = "supplement_limit"


class StaleVersion(Conflict):
    """The instance was changed by someone else since it was read."""

    code = "stale_version"


class InstanceNotActive(Conflict):
    """The instance is suspended or has ended."""

    code = "instance_not_active"

    def __init__(self, message: str | None = None, status: str | None = None):
        self.status = status  # suspended, completed, terminated... when known
        super().__init__(message)


class LockNotHeld(Conflict):
    """The external task is not locked by this worker (the lock expired or was taken over)."""

    code = "lock_not_held"

