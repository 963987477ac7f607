"""Workflows kept in memory between commands, so that the next command on an instance skips the JSON load.

A command loads an instance's workflow from its stored state (``runtime.loaded_from``) and saves it back
(``runtime.save``). When the next command on that instance runs in the same process and finds the row at the
version the last save wrote, the workflow object that save serialized is the one the stored state describes,
and the command takes it from here instead of parsing and rebuilding it. The rules that keep this exact:

* an entry is published only when the transaction that wrote its version **commits** (a rollback, of the whole
  transaction or of a savepoint, forgets what was waiting), and it is keyed by database, instance id and
  version number: a row another process has moved on, or a version rolled back and written again, never
  matches;
* an entry is **taken out** when used, so at most one command holds a workflow object, and a command that
  fails halfway (its changes rolled back) leaves nothing behind;
* a workflow is kept only if its data would read back the same from JSON (:func:`reads_back_exactly`):
  strings, numbers, booleans, lists and string-keyed dicts, dates, times with a fixed offset, decimals and
  durations, each list or dict held once. A tuple, a set, a number key, a function left by a script: the
  next command loads from the stored state, as it would without this cache.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.db import database_name

KEPT = 512  # workflows kept per process (the most recently saved); a dossier's workflow is a few tens of kB
_PENDING = "motcua.workflow_cache.pending"  # session.info: saved in the open transaction, kept if it commits


class WorkflowCache:
    """Workflows by (database, instance id), each with the version of the row it was saved as."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._entries: OrderedDict[tuple, tuple[int, str, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, session: Session, instance_id: str, version_no: int, definition_id: str) -> BpmnWorkflow | None:
        """The workflow saved as this version of the instance, removed from the cache; None if there is none."""
        with self._lock:
            entry = self._entries.pop((database_name(session), instance_id), None)
        if entry is None or entry[0] != version_no or entry[1] != definition_id:
            return None
        return entry[2]

    def keep_if_committed(self, session: Session, instance_id: str, version_no: int, definition_id: str,
                          wf: BpmnWorkflow, unchanged: dict | None = None) -> None:
        """Keep ``wf`` as this version of the instance once the session's transaction commits (``unchanged``: see
        :func:`reads_back_exactly`)."""
        if self.kept <= 0 or not reads_back_exactly(wf, unchanged):
            return
        pending = session.info.setdefault(_PENDING, {})
        pending[(database_name(session), instance_id)] = (version_no, definition_id, wf)

    def clear(self) -> None:
        """Forget every workflow."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _publish(self, pending: dict) -> None:
        with self._lock:
            for key, entry in pending.items():
                self._entries.pop(key, None)
                self._entries[key] = entry
            while len(self._entries) > self.kept:
                self._entries.popitem(last=False)


WORKFLOWS = WorkflowCache()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    # after_commit also follows the release of a savepoint; only the outermost commit makes the rows durable
    if session.get_nested_transaction() is None:
        pending = session.info.pop(_PENDING, None)
        if pending:
            WORKFLOWS._publish(pending)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:  # closed without a commit (a commit has published and emptied it already)
        session.info.pop(_PENDING, None)


_FLAT = frozenset({str, int, bool, type(None)})
_SCALARS = frozenset({*_FLAT, dt.date, decimal.Decimal, dt.timedelta, UUID})


def reads_back_exactly(wf: BpmnWorkflow, unchanged: dict | None = None) -> bool:
    """Whether the data of every task (its variables and what SpiffWorkflow keeps for it, such as a message's
    payload) and the workflow's data objects would come back equal, and of the same types, from the stored
    JSON.

    ``unchanged`` ({task id: (state, time of its last change)}) names finished tasks already known to read back:
    those of a workflow read from stored state or kept by this cache, when the command began. A finished task
    still in that state since then is not looked at again: nothing runs in it any more, so its data is what was
    read or checked (on a dossier near its end these are most of the tasks, and most of this check's time).
    """
    unchanged = unchanged or {}
    for sub in (wf, *wf.subprocesses.values()):
        if not _plain(sub.data, set()):
            return False
        for task in sub.tasks.values():
            if unchanged.get(task.id) == (task._state, task.last_state_change):
                continue
            if not _plain(task.data, set()) or not _plain(task.internal_data, set()):
                return False
    return True


def _plain(value: Any, seen: set[int]) -> bool:
    kind = type(value)
    if kind is dict:
        if id(value) in seen:
            return False
        seen.add(id(value))
        for key, item in value.items():  # (the common values checked inline: this runs on every save)
            if type(key) is not str or (type(item) not in _FLAT and not _plain(item, seen)):
                return False
        return True
    if kind is list:
        if id(value) in seen:
            return False
        seen.add(id(value))
        return all(type(item) in _FLAT or _plain(item, seen) for item in value)
    if kind is float:
        return math.isfinite(value)  # NaN and infinities are stored as null
    if kind is dt.datetime:
        return value.tzinfo is None or isinstance(value.tzinfo, dt.timezone)  # a zone would come back an offset
    return kind in _SCALARS
