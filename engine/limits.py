"""Text that must fit the columns it is written to: checked at the command boundary, so a value too long — or
holding a character no column can store: NUL, which PostgreSQL refuses, or half of a surrogate pair, which UTF-8
cannot encode — is a :class:`BadInput` naming the field (HTTP 400, exit code 2) rather than a database error.

The limits are read from the models' column types, never repeated here.
"""
from __future__ import annotations

import re
from typing import Any

from engine.errors import BadInput
from engine.models import ExternalTask, HistoryEvent, ProcessInstance, UserTask, WorkerSeen


def column_length(*columns: Any) -> int:
    """The most characters every one of these mapped columns holds (the smallest of their lengths)."""
    return min(column.type.length for column in columns)


BUSINESS_KEY_MAX = column_length(ProcessInstance.business_key, ExternalTask.business_key)
WORKER_ID_MAX = column_length(ExternalTask.worker_id, WorkerSeen.worker_id, HistoryEvent.user_id)  # its history too
TOPIC_MAX = column_length(ExternalTask.topic, WorkerSeen.topic)
INT_MAX = 2**31 - 1  # the largest whole number an integer column holds on every database (retries, say)
DURATION_MAX_MS = 366 * 24 * 3600 * 1000  # a lock or retry timeout of more than a year is a mistake
USER_ID_MAX = column_length(UserTask.assignee, HistoryEvent.user_id, ProcessInstance.started_by)  # who acts, who holds


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def check_length(field: str, value: str | None, limit: int) -> str | None:
    """``value`` unchanged; :class:`BadInput` naming ``field`` and ``limit`` when it has more characters, or naming
    ``field`` when it holds a character no column stores (:func:`check_text`)."""
    if value is not None and len(value) > limit:
        raise BadInput(f"{field} is too long: at most {limit} characters, not {len(value)}")
    return check_text(field, value)


def check_text(field: str, value: str | None) -> str | None:
    """``value`` unchanged; :class:`BadInput` naming ``field`` when it holds NUL or half of a surrogate pair."""
    if isinstance(value, str) and _UNSTORABLE.search(value):
        raise BadInput(f"{field} holds a character that cannot be stored (NUL or half of a surrogate pair)")
    return value


def check_number(field: str, value: Any, minimum: int, maximum: int = INT_MAX) -> int:
    """``value`` unchanged; :class:`BadInput` naming ``field`` unless it is a whole number from ``minimum`` to
    ``maximum`` (a number of milliseconds beyond :data:`DURATION_MAX_MS` would overflow a date, one beyond
    :data:`INT_MAX` the column)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise BadInput(f"{field} must be a whole number from {minimum} to {maximum}, not {value!r}")
    return value
