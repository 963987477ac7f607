"""Checking submitted data against a form (a JSON Schema 2020-12 deployed with the definition)."""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from engine.errors import FieldError, FormValidationFailed


def validate_form(schema: dict | None, data: dict[str, Any]) -> None:
    """Check task data against the task's form (a JSON Schema); raise with every field at fault."""
    if not schema:
        return
    validator = Draft202012Validator(schema)
    errors = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required" and not path:
            missing = err.message.split("'")[1] if "'" in err.message else err.message
            errors.append(FieldError(missing, "is required"))
        else:
            errors.append(FieldError(path or "(form)", err.message))
    if errors:
        raise FormValidationFailed(errors)
