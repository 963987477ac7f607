"""Checking submitted data against a form (a JSON Schema 2020-12 deployed with the definition)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from engine.errors import FieldError, FormValidationFailed

NOT_AFTER = "x-motcua-not-after"  # on a date field: "today" (Vietnam's date) or an ISO date it must not pass
VIETNAM = dt.timezone(dt.timedelta(hours=7))
# The kinds of file an upload may be (told by its content); a file field's x-ui "accept" narrows them (as HTML's
# accept attribute is written: MIME types or extensions, comma-separated, or a list), undeclared it takes all.
FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")
ACCEPT_ALIASES = {".pdf": ("application/pdf",), ".jpg": ("image/jpeg",), ".jpeg": ("image/jpeg",),
                  ".png": ("image/png",), "image/*": ("image/jpeg", "image/png"),
                  **{mime: (mime,) for mime in FILE_TYPES}}


def _not_after(validator, limit: str, instance: Any, schema: dict):
    try:
        day = dt.date.fromisoformat(instance)
    except (TypeError, ValueError):
        return  # not a date: "format" and "type" say so
    bound = dt.datetime.now(VIETNAM).date() if limit == "today" else dt.date.fromisoformat(limit)
    if day > bound:
        yield ValidationError(f"{instance!r} is after {limit}")


def accept_entries(prop: dict) -> list[str]:
    """What a file field's ``x-ui.accept`` (or, for several files, its items') lists, as written, lower-cased."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    own, inner = (ui if isinstance(ui := p.get("x-ui"), dict) else {} for p in (prop, items))
    declared = own.get("accept", inner.get("accept"))
    entries = declared.split(",") if isinstance(declared, str) else declared if isinstance(declared, list) else []
    return [e.strip().lower() for e in entries if isinstance(e, str) and e.strip()]


def accepted_types(prop: dict) -> tuple[str, ...]:
    """The MIME types (among :data:`FILE_TYPES`, in that order) a file field takes: those its ``accept`` names, or
    all of them when it names none we know (deploy refuses entries it does not know)."""
    named = {mime for entry in accept_entries(prop) for mime in ACCEPT_ALIASES.get(entry, ())}
    return tuple(mime for mime in FILE_TYPES if mime in named) or FILE_TYPES


FormValidator = validators.extend(Draft202012Validator, {NOT_AFTER: _not_after})


def validate_form(schema: dict | None, data: dict[str, Any]) -> None:
    """Check task data against the task's form (a JSON Schema); raise with every field at fault."""
    if not schema:
        return
    validator = FormValidator(schema)
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


def _title(schema: dict, path: list) -> str:
    node, title = schema, None
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
            continue
        node = (node.get("properties") or {}).get(part, {})
        title = node.get("title") or title
    return title or (str(path[-1]) if path else "Thông tin")


def _kind_vi(expected: Any) -> str:
    kinds = set(expected) if isinstance(expected, list) else {expected}
    if "integer" in kinds and "number" not in kinds:
        return "số nguyên, ví dụ 2 hoặc 1.500"
    return "số" if "number" in kinds else "giá trị hợp lệ"


def _message_vi(err, schema: dict) -> tuple[str, str]:
    """(field path, a sentence a citizen understands) for one JSON Schema error."""
    path = list(err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        path = path + [missing]
        node = schema
        for part in path[:-1]:
            node = node.get("items", {}) if isinstance(part, int) else (node.get("properties") or {}).get(part, {})
        prop = (node.get("properties") or {}).get(missing, {})
        chosen = "enum" in prop or (prop.get("x-ui") or {}).get("widget") in ("radios", "select", "checkbox") \
            or prop.get("type") == "boolean"
        verb = "Chọn" if chosen else "Tải lên" if (prop.get("x-ui") or {}).get("widget") == "file" else "Nhập"
        return ".".join(map(str, path)), f"{verb} {_title(schema, path).lower()}"
    title = _title(schema, path)
    value = err.validator_value
    if err.validator == "format":
        message = {"email": "Nhập địa chỉ thư điện tử đúng định dạng, ví dụ ten@example.vn",
                   "date": f"{title} phải là một ngày có thật"}.get(str(value), f"{title} không đúng định dạng")
        return ".".join(map(str, path)), message
    if err.validator == NOT_AFTER:
        bound = "ngày hôm nay" if value == "today" else dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        return ".".join(map(str, path)), f"{title} không được sau {bound}"
    messages = {
        "pattern": f"{title} không đúng định dạng",
        "minLength": f"{title} phải có ít nhất {value} ký tự",
        "maxLength": f"{title} không được quá {value} ký tự",
        "minimum": f"{title} phải từ {value} trở lên",
        "maximum": f"{title} không được lớn hơn {value}",
        "minItems": f"{title}: cần ít nhất {value} mục",
        "maxItems": f"{title}: tối đa {value} mục",
        "enum": f"Chọn {title.lower()} trong danh sách",
        "const": f"Chọn {title.lower()}",
        "type": f"{title} phải là {_kind_vi(value)}",
    }
    return ".".join(map(str, path)) or "(form)", messages.get(err.validator, f"{title} không hợp lệ")


def errors_vi(schema: dict | None, data: dict[str, Any], only: set[str] | None = None) -> dict[str, str]:
    """The form's errors for a citizen, field by field (first error of each), in Vietnamese; ``only`` keeps
    the errors of those top-level fields (one page of a long form)."""
    if not schema:
        return {}
    validator = FormValidator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found: dict[str, str] = {}
    for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        if err.validator in ("allOf", "anyOf", "oneOf", "if", "then"):
            for sub in err.context or []:
                field, message = _message_vi(sub, schema)
                found.setdefault(field, message)
            continue
        field, message = _message_vi(err, schema)
        found.setdefault(field, message)
    if only is not None:
        found = {k: v for k, v in found.items() if k.split(".")[0] in only}
    return found
