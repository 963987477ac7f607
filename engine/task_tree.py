"""SpiffWorkflow's task iterators, without their depth limit.

``TaskIterator`` and ``BpmnTaskIterator`` (SpiffWorkflow 3.2) stop descending at depth 1,000 by default, and
``get_tasks``, ``do_engine_steps`` and ``is_completed`` all walk the tree with them. A loop in a diagram deepens the
tree with every round (a review sent back for a supplement, a timer polling a payment every hour: each round's
tasks are children of the last round's), so after a few hundred rounds the open tasks lay beyond the iterators'
reach: they vanished from the inbox and the workflow called itself completed without reaching an end event, its
data lost. The default is lifted here, once, for every walk; what one command may run is bounded by the engine
instead (engine.runtime, engine.loop_limits), and a deep tree costs time in proportion, never correctness.
"""
from __future__ import annotations

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

SPIFF_DEFAULT_DEPTH = 1_000
UNLIMITED_DEPTH = 2**62


def _lift(cls: type) -> None:
    names = cls.__init__.__code__.co_varnames[1:cls.__init__.__code__.co_argcount]
    defaults = list(cls.__init__.__defaults__)
    position = names.index("max_depth") - (len(names) - len(defaults))
    if defaults[position] not in (SPIFF_DEFAULT_DEPTH, UNLIMITED_DEPTH):
        raise RuntimeError(f"{cls.__name__}: unexpected max_depth default {defaults[position]!r}; check this module "
                           "against the installed SpiffWorkflow")
    defaults[position] = UNLIMITED_DEPTH
    cls.__init__.__defaults__ = tuple(defaults)


for _cls in (TaskIterator, BpmnTaskIterator):
    _lift(_cls)


def tasks_in_state(wf, mask: int, since: float | None = None) -> list:
    """The tasks of a workflow and of all its subprocesses whose state is in ``mask`` (and, with ``since``, whose
    state changed at or after that time): the tasks ``wf.get_tasks(state=mask, updated_ts=since)`` finds, in the
    order they were created, read from the workflows' task tables instead of walking the tree. The engine asks
    this several times on every command; the walk cost it about 1 % of a command."""
    found = [t for t in wf.tasks.values() if t._state & mask]
    for sub in wf.subprocesses.values():
        found.extend(t for t in sub.tasks.values() if t._state & mask)
    if since is not None:
        found = [t for t in found if t.last_state_change >= since]
    return found
