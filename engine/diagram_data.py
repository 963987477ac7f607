"""What the console's process diagrams show, read from the engine's tables: how many tokens wait at each
element of a definition and how many incidents are open there, the path one instance took and where it
waits, and how long dossiers stay at each element (the heatmap).

Every function reads with the caller's session and never writes. Results are keyed by BPMN element id and
shaped like the overlays of ``webapp.console.diagram`` (``{"active": n, "incidents": n}``,
``{"highlight": "path" | "waiting"}``), so a page passes them through.

Where a token waits is what the projections say: an open user task, an external task, a message
subscription (not the ones of boundary events or event-subprocess starts, which listen while the token is
elsewhere); and, from ``history_event`` since they have no table of their own, an intermediate timer event
or an event-based gateway started and not yet left (SpiffWorkflow, like Camunda, keeps the token of an
event-based gateway on the gateway until one of its events fires).
"""
from __future__ import annotations

import functools
import statistics
import threading
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import Integer, Numeric, String, bindparam, cast, func, select, text, union_all
from sqlalchemy.orm import Session, aliased

from engine import dialect, specs
from engine.errors import BadInput, NotFound
from engine.models import (DeploymentResource, ExternalTask, HistoryEvent, Incident, MessageSubscription,
                           ProcessDefinition, ProcessInstance, UserTask)

SAMPLE = 5000  # the heatmap's percentiles are computed over the newest completions of each element, this many
CHUNK = 100  # elements read in one query (SQLite allows 500 parts to a UNION)
RUNNING = ("active", "suspended")
ENDED = ("activity_completed", "activity_cancelled", "activity_failed")
B = f"{{{dialect.BPMN_NS}}}"


@dataclass(frozen=True)
class _Elements:
    """What the diagram data needs to know of a definition's BPMN."""

    flows: tuple[tuple[str, str, str], ...]  # (sequence flow id, source id, target id)
    history_waits: frozenset[str]  # timer catch events and event-based gateways: waits known only from history
    listeners: frozenset[str]  # boundary events and event-subprocess starts: subscribed, but no token waits


_CACHE: dict[tuple[str, str], _Elements] = {}  # by (content hash, process key): a definition never changes
_CACHE_LOCK = threading.Lock()


def _read_elements(content: bytes, key: str) -> _Elements:
    root = dialect.parse_xml(content)
    process = next((p for p in root.iter(f"{B}process") if p.get("id") == key), root)
    flows, waits, listeners = [], set(), set()
    for el in process.iter(f"{B}sequenceFlow", f"{B}intermediateCatchEvent", f"{B}eventBasedGateway",
                           f"{B}boundaryEvent", f"{B}startEvent"):
        tag = etree.QName(el).localname
        if tag == "sequenceFlow":
            flows.append((el.get("id"), el.get("sourceRef"), el.get("targetRef")))
        elif tag == "eventBasedGateway" or (tag == "intermediateCatchEvent"
                                            and el.find(f"{B}timerEventDefinition") is not None):
            waits.add(el.get("id"))
        elif tag == "boundaryEvent":
            listeners.add(el.get("id"))
        elif tag == "startEvent" and el.getparent().get("triggeredByEvent") == "true":
            listeners.add(el.get("id"))
    return _Elements(tuple(flows), frozenset(waits), frozenset(listeners))


def _elements(session: Session, definition_id: str) -> _Elements:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"no process definition {definition_id}")
    cache_key = (definition.sha256, definition.key)
    with _CACHE_LOCK:
        if cache_key in _CACHE:
            return _CACHE[cache_key]
    resource = session.get(DeploymentResource, (definition.deployment_id, definition.resource_name))
    if resource is None:
        raise NotFound(f"the file of definition {definition_id} is missing")
    elements = _read_elements(resource.content, definition.key)
    with _CACHE_LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[cache_key] = elements
    return elements


def _open_waits(session: Session, scope, waits: frozenset[str]) -> Counter:
    """Tokens at the given elements known from history: started, and not completed, cancelled or failed since."""
    if not waits:
        return Counter()
    later = aliased(HistoryEvent)
    left = (select(later.id).where(later.instance_id == HistoryEvent.instance_id, later.task_id == HistoryEvent.task_id,
                                   later.id > HistoryEvent.id, later.kind.in_(ENDED)).exists())
    stmt = (select(HistoryEvent.activity_id, func.count(func.distinct(HistoryEvent.task_id)))
            .join(ProcessInstance, ProcessInstance.id == HistoryEvent.instance_id)
            .where(scope, ProcessInstance.status.in_(RUNNING), HistoryEvent.kind == "activity_started",
                   HistoryEvent.activity_id.in_(sorted(waits)), ~left)
            .group_by(HistoryEvent.activity_id))
    return Counter(dict(session.execute(stmt).all()))


def _tokens(session: Session, scope, elements: _Elements) -> Counter:
    """Waiting tokens per element for the instances in ``scope`` (a condition on process_instance)."""
    tokens: Counter = Counter()
    for table in (UserTask, ExternalTask, MessageSubscription):
        stmt = (select(table.activity_id, func.count()).join(ProcessInstance, ProcessInstance.id == table.instance_id)
                .where(scope, ProcessInstance.status.in_(RUNNING)).group_by(table.activity_id))
        for activity_id, count in session.execute(stmt):
            if activity_id not in elements.listeners and activity_id not in elements.history_waits:
                tokens[activity_id] += count
    tokens.update(_open_waits(session, scope, elements.history_waits))
    return tokens


def _incidents(session: Session, scope) -> Counter:
    stmt = (select(Incident.activity_id, func.count()).join(ProcessInstance, ProcessInstance.id == Incident.instance_id)
            .where(scope, Incident.resolved_at.is_(None), Incident.activity_id.is_not(None))
            .group_by(Incident.activity_id))
    return Counter(dict(session.execute(stmt).all()))


def definition_counts(session: Session, definition_id: str) -> dict[str, dict[str, int]]:
    """For each element of a definition where something is: ``{"active": waiting tokens of running (or
    suspended) instances, "incidents": open incidents}``. Elements with neither are left out."""
    elements = _elements(session, definition_id)
    scope = ProcessInstance.definition_id == definition_id
    tokens, incidents = _tokens(session, scope, elements), _incidents(session, scope)
    return {element: {"active": tokens.get(element, 0), "incidents": incidents.get(element, 0)}
            for element in sorted(set(tokens) | set(incidents)) if element}


@dataclass
class InstancePath:
    """Where one instance has been and where it is.

    ``completed`` counts the completions of each element (more than one after a loop); ``flows`` are the
    sequence flows inferred as taken (see :func:`instance_path`); ``waiting`` counts the tokens waiting at
    each element now; ``incidents`` the open incidents per element.
    """

    completed: dict[str, int] = field(default_factory=dict)
    flows: set[str] = field(default_factory=set)
    waiting: dict[str, int] = field(default_factory=dict)
    incidents: dict[str, int] = field(default_factory=dict)

    def overlays(self) -> dict[str, dict]:
        """The path and the waits as diagram overlays: completed elements and taken flows highlighted as
        the path, waiting elements (and elements with an open incident) as where the instance waits."""
        out: dict[str, dict] = {element: {"highlight": "path"} for element in self.completed}
        out.update({flow: {"highlight": "path"} for flow in self.flows})
        for element, count in self.waiting.items():
            out[element] = {"highlight": "waiting", "active": count}
        for element, count in self.incidents.items():
            out.setdefault(element, {}).update(incidents=count, highlight="waiting")
        return out


def _taken_flows(events: list, elements: _Elements) -> tuple[Counter, set[str]]:
    """Completions per element, and the flows taken: each time an element is reached (started, or completed
    without a start, as gateways are), the flow from the predecessor that completed last since the element
    was last reached is counted taken."""
    incoming: dict[str, list[tuple[str, str]]] = {}
    for flow_id, source, target in elements.flows:
        incoming.setdefault(target, []).append((flow_id, source))
    completed: Counter = Counter()
    done_at: dict[str, int] = {}  # element → event id of its latest (first-reported) completion
    reached_at: dict[str, int] = {}  # element → event id of its latest start or completion
    seen_done, seen_started = set(), set()
    taken: set[str] = set()
    for event_id, kind, activity_id, task_id in events:
        if kind == "activity_completed":
            if task_id in seen_done:
                continue  # reported again by a later command: the first report is the one that counts
            seen_done.add(task_id)
            completed[activity_id] += 1
        else:
            seen_started.add(task_id)
        since = reached_at.get(activity_id, 0)
        candidates = [(done_at[source], flow_id) for flow_id, source in incoming.get(activity_id, ())
                      if since < done_at.get(source, -1) < event_id]
        if candidates:
            latest = max(c[0] for c in candidates)
            taken.update(flow_id for at, flow_id in candidates if at == latest)
        reached_at[activity_id] = event_id
        if kind == "activity_completed":
            done_at[activity_id] = event_id
    return completed, taken


def instance_path(session: Session, instance_id: str) -> InstancePath:
    """The elements an instance completed, the flows it took and where it waits now.

    Flows are inferred from ``history_event`` (SpiffWorkflow does not record which flow a token took): a flow
    counts as taken when its target was reached after its source completed, and after any other
    predecessor of the target did. An approximation: when two predecessors of an element complete between
    two arrivals there (a parallel join reached in one step), only the later one's flow is shown taken.
    """
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise NotFound(f"no process instance {instance_id}")
    elements = _elements(session, row.definition_id)
    events = session.execute(
        select(HistoryEvent.id, HistoryEvent.kind, HistoryEvent.activity_id, HistoryEvent.task_id)
        .where(HistoryEvent.instance_id == instance_id, HistoryEvent.activity_id.is_not(None),
               HistoryEvent.kind.in_(("activity_started", "activity_completed")))
        .order_by(HistoryEvent.id)).all()
    completed, flows = _taken_flows(events, elements)
    scope = ProcessInstance.id == instance_id
    waiting = _tokens(session, scope, elements)
    return InstancePath(completed=dict(completed), flows=flows, waiting={k: v for k, v in waiting.items() if k},
                        incidents=dict(_incidents(session, scope)))


@dataclass(frozen=True)
class Durations:
    """How long tokens stayed at one element (from its start to its completion), over the sample."""

    count: int
    median_seconds: float
    p90_seconds: float


def _percentile(ordered: list[float], permille: int) -> float:
    """The nearest-rank percentile of sorted values (``permille``: 900 for the 90th percentile)."""
    rank = max(1, -(-permille * len(ordered) // 1000))  # ceil(permille × n / 1000), in integers
    return ordered[rank - 1]


def _activities(session: Session, definition_ids: list[str]) -> list[str]:
    """Every BPMN element id the definitions run (their call activities' processes and event subprocesses included),
    as history events name them; none for a definition that is not there."""
    found: set[str] = set()
    for definition_id in definition_ids:
        try:
            parsed = specs.SPECS.get(session, specs.SPECS.definition(session, definition_id))
        except NotFound:
            continue
        for spec in (parsed.spec, *parsed.subprocess_specs.values()):
            for task_spec in spec.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                if bpmn_id and not task_spec.name.endswith(" [child]"):
                    found.add(bpmn_id)
    return sorted(found)


def _newest_completions(column, activity, sample):
    """The newest ``sample`` completions of the element ``activity`` whose instance has ``column`` (its definition or
    process key) equal to the ``scope`` parameter, with their start: walked newest first through the partial index
    of completions (migration 0021), each checked against its instance and its start looked up in the index of
    starts, until that many belong to the scope's instances. Skipped at once (one probe of the index of starts) for
    an element that never started anywhere: one passed through at once has no time to show, however many
    completions it has. The checks are correlated subqueries on purpose: joins would let the planner read every
    completion of the element (and every start) to sort them, where a walk stops after ``sample``."""
    owner = select(column).where(ProcessInstance.id == HistoryEvent.instance_id).scalar_subquery()
    started = aliased(HistoryEvent)
    start = (select(func.min(started.at))
             .where(started.kind == "activity_started", started.activity_id == activity,
                    started.instance_id == HistoryEvent.instance_id, started.task_id == HistoryEvent.task_id)
             .scalar_subquery())
    ever_started = (select(started.id).where(started.kind == "activity_started", started.activity_id == activity)
                    .exists())
    return (select(HistoryEvent.activity_id, HistoryEvent.task_id, HistoryEvent.at.label("done"),
                   start.label("started"))
            .where(HistoryEvent.kind == "activity_completed", HistoryEvent.activity_id == activity,
                   HistoryEvent.task_id.is_not(None), owner == bindparam("scope", type_=String()), ever_started)
            .order_by(HistoryEvent.id.desc()).limit(sample).subquery())


def _seconds(postgresql: bool, later, earlier):
    """``later - earlier`` in seconds to the millisecond, in the database's own date arithmetic (SQLite's day
    fractions carry a little noise below that)."""
    if postgresql:
        return func.round(cast(func.extract("epoch", later - earlier), Numeric), 3)
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


@functools.lru_cache(maxsize=32)
def _statement(scope: str, elements: int, postgresql: bool):
    """The query of :func:`durations` for ``elements`` elements (parameters ``a0``, ``a1``…, ``scope`` and
    ``sample``), built once: the same text each time lets PostgreSQL keep its plan (psycopg prepares a statement
    run often). PostgreSQL computes the figures itself (``percentile_cont``; ``percentile_disc`` is the nearest
    rank), so that tens of thousands of rows need not travel; elsewhere the rows are (element, seconds)."""
    column = getattr(ProcessInstance, scope)
    sample = bindparam("sample", type_=Integer())
    done = union_all(*(select(_newest_completions(column, bindparam(f"a{k}", type_=String()), sample))
                       for k in range(elements))).subquery("done")
    # a task's completion reported twice (before that was prevented) counts once, from its first report
    pairs = (select(done.c.activity_id, _seconds(postgresql, func.min(done.c.done), func.min(done.c.started))
                    .label("seconds"))
             .where(done.c.started.is_not(None)).group_by(done.c.activity_id, done.c.task_id).subquery("pairs"))
    kept = pairs.c.seconds >= 0  # a clock set back between the two events says nothing about the wait
    if postgresql:
        return (select(pairs.c.activity_id, func.count(), func.percentile_cont(0.5).within_group(pairs.c.seconds),
                       func.percentile_disc(0.9).within_group(pairs.c.seconds))
                .where(kept).group_by(pairs.c.activity_id))
    return select(pairs.c.activity_id, pairs.c.seconds).where(kept)


def durations(session: Session, *, definition_id: str | None = None, process_key: str | None = None,
              sample: int = SAMPLE) -> dict[str, Durations]:
    """The median and 90th percentile time between an element's start and its completion, per element of
    one definition (or of every version of a process key), over the newest ``sample`` completions of each
    element (the median as :func:`statistics.median` gives it, the p90 by nearest rank). Elements passed
    through at once (gateways, most events) have no start and are left out, and so are tokens still waiting.

    Each element's newest completions are read by an index range of their own (a few thousand rows however long
    the history), :data:`CHUNK` elements to a query; the elements are those of the definitions' BPMN, so an element
    no longer in the diagram (history kept by instances migrated from an older version) is not shown."""
    if (definition_id is None) == (process_key is None):
        raise BadInput("give a definition id or a process key")
    if definition_id is not None:
        scope, value, ids = "definition_id", definition_id, [definition_id]
    else:
        scope, value = "process_key", process_key
        ids = list(session.scalars(select(ProcessDefinition.id).where(ProcessDefinition.key == process_key)))
    activities = _activities(session, ids)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SET LOCAL jit = off"))  # compiling takes longer than these index walks
    found: list[tuple[str, int, float, float]] = []
    spans: dict[str, list[float]] = {}
    for k in range(0, len(activities), CHUNK):
        chunk = activities[k:k + CHUNK]
        rows = session.execute(_statement(scope, len(chunk), postgresql),
                               {"scope": value, "sample": sample, **{f"a{i}": a for i, a in enumerate(chunk)}})
        if postgresql:
            found += [(a, n, float(median), float(p90)) for a, n, median, p90 in rows]
            continue
        for activity_id, seconds in rows:
            spans.setdefault(activity_id, []).append(float(seconds))
    found += [(a, len(v), float(statistics.median(v)), float(_percentile(v, 900)))
              for a, v in ((a, sorted(v)) for a, v in spans.items())]
    return {a: Durations(count=n, median_seconds=median, p90_seconds=p90) for a, n, median, p90 in sorted(found)}
