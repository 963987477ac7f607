"""The "Lý do" (reason) field of the admin pages' and the console's forms: why an administrative action is taken.

The engine command writes the reason to the audit log with the actor (:mod:`engine.audit`); the pages only check it.
A change to something that exists (an account, an agency, a running dossier, a new version) needs one; adding
something new (an account, an agency, a group) takes one if given. The form's template draws the field with
``portal/_reason.html``.
"""
from __future__ import annotations

REASON_MIN = 5  # the console's rule since token moves: "x" or "ok" says nothing
REASON_MAX = 500


def check(errors: dict, field: str, value: str | None, what: str, required: bool = True) -> str | None:
    """The reason typed in ``field``, trimmed (None when empty); a Vietnamese message in ``errors[field]`` when it is
    missing though ``required`` or too long. ``what`` names the action, e.g. "khóa tài khoản"."""
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > REASON_MAX:
        errors[field] = f"Lý do {what} dài quá {REASON_MAX} ký tự (đang có {len(text)} ký tự)"
    elif required and len(text) < REASON_MIN:
        errors[field] = f"Ghi lý do {what} (ít nhất {REASON_MIN} ký tự)"
    return text or None
