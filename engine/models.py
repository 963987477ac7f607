"""The engine's tables. Only the engine reads or writes them.

``process_instance.state`` holds SpiffWorkflow's serialized workflow (spec by reference); every other
instance table is a projection of that state, rebuilt by the command that changed it, in the same
transaction, so that inboxes, worker queues, timers and histories are answered by indexed queries
without deserializing anything.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Text, TypeDecorator, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention Alembic needs."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Deployment(Base):
    """One call to deploy: a snapshot of the files deployed together."""

    __tablename__ = "deployment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(500))
    deployed_by: Mapped[str | None] = mapped_column(String(100))
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DeploymentResource(Base):
    """A file of a deployment: a BPMN or DMN file, a form or a procedure entry, stored as deployed."""

    __tablename__ = "deployment_resource"

    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # bpmn, dmn, form, procedure
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ProcessDefinition(Base):
    """An executable process of a deployment, at one version. Never changed once written."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index("ix_process_definition_key_sha256", "key", "sha256"),
    )

    id: Mapped[str] = mapped_column(String(300), primary_key=True)  # "<key>:<version>"
    key: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(500))
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id"))
    resource_name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    deployed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ProcessInstance(Base):
    """A running or finished instance; ``state`` is the workflow, ``version_no`` counts its saves."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_next_timer_at", "next_timer_at"),
        Index("ix_process_instance_key_status", "process_key", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id"))
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20))  # active, suspended, completed, terminated
    state: Mapped[str] = mapped_column(Text)
    version_no: Mapped[int] = mapped_column(Integer)
    variables: Mapped[str] = mapped_column(Text)
    open_incidents: Mapped[int] = mapped_column(Integer, default=0)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    started_by: Mapped[str | None] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(Text)
    # read with the instance's lock (engine.runtime), so a command's projections find the dossier without a query
    dossier: Mapped[Dossier | None] = relationship(viewonly=True, lazy="raise")

    # Optimistic check on every save: UPDATE ... WHERE version_no = <read value>, as a backstop to the row lock.
    __mapper_args__ = {"version_id_col": version_no}


class UserTask(Base):
    """An open user task (READY in the workflow). Removed when it is completed or cancelled."""

    __tablename__ = "user_task"
    __table_args__ = (
        Index("ix_user_task_assignee_due", "assignee", "due_at"),
        Index("ix_user_task_due_at", "due_at"),
        # an agency's inbox in each order it offers (engine.inbox): due, procedure, dossier code
        Index("ix_user_task_agency_due", "agency", "due_at", "created_at", "id"),
        Index("ix_user_task_agency_procedure", "agency", "process_key", "due_at", "created_at", "id"),
        Index("ix_user_task_agency_code", "agency", "business_key", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[str] = mapped_column(String(300))
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255))
    activity_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(255))
    form_key: Mapped[str | None] = mapped_column(String(255))
    assignee: Mapped[str | None] = mapped_column(String(100))
    candidate_groups: Mapped[str] = mapped_column(Text, default="")  # comma-separated, for display
    candidate_users: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=50)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    agency: Mapped[str | None] = mapped_column(String(64))  # whose inbox: the dossier's agency (engine.inbox)
    local_variables: Mapped[str | None] = mapped_column(Text)  # JSON: an instance's own item (multi_instance)


class UserTaskCandidate(Base):
    """One candidate group or user of an open user task: the index an inbox query joins on."""

    __tablename__ = "user_task_candidate"
    __table_args__ = (Index("ix_user_task_candidate_kind_value", "kind", "value"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("user_task.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # group or user
    value: Mapped[str] = mapped_column(String(255), primary_key=True)


class ExternalTask(Base):
    """A service task waiting for a worker (STARTED in the workflow): the outbox of side effects."""

    __tablename__ = "external_task"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    definition_id: Mapped[str] = mapped_column(String(300))
    process_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255))
    activity_id: Mapped[str] = mapped_column(String(255))
    activity_name: Mapped[str | None] = mapped_column(String(500))
    topic: Mapped[str] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(BigInteger, default=0)
    variables: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    retries: Mapped[int | None] = mapped_column(Integer)
    retry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# fetch-and-lock for a topic walks this index in its ORDER BY and stops at LIMIT, instead of sorting every
# waiting task of the topic
Index("ix_external_task_fetch_order", ExternalTask.topic, ExternalTask.priority.desc(), ExternalTask.created_at,
      ExternalTask.id)


class MessageSubscription(Base):
    """A message catch event waiting in an instance, found by message name and business key."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name_key", "message_name", "business_key"),)

    task_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255))
    activity_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Incident(Base):
    """Something an operator must fix: a failed expression, a worker out of retries, an uncaught error."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_open", "resolved_at", "instance_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    activity_id: Mapped[str | None] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(40))  # failedExternalTask, failedExpression, unhandledError
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class HistoryEvent(Base):
    """What happened to an instance, in order: the source of its history and of the tracking card."""

    __tablename__ = "history_event"
    # an element's newest completions and each one's start, for the console's heatmap (migration 0021)
    __table_args__ = (Index("ix_history_event_instance_id_id", "instance_id", "id"),
                      Index("ix_history_event_completed", "activity_id", "id",
                            sqlite_where=text("kind = 'activity_completed'"),
                            postgresql_where=text("kind = 'activity_completed'"),
                            postgresql_include=["instance_id", "task_id", "at"]),
                      Index("ix_history_event_started", "activity_id", "instance_id", "task_id",
                            sqlite_where=text("kind = 'activity_started'"),
                            postgresql_where=text("kind = 'activity_started'"), postgresql_include=["at"]),
                      # a user task's events by its id, newest first (migration 0023)
                      Index("ix_history_event_user_task", "task_id", "id",
                            sqlite_where=text("activity_type = 'userTask'"),
                            postgresql_where=text("activity_type = 'userTask'")))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    activity_id: Mapped[str | None] = mapped_column(String(255))
    activity_name: Mapped[str | None] = mapped_column(String(500))
    activity_type: Mapped[str | None] = mapped_column(String(60))
    task_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[str | None] = mapped_column(Text)


class Account(Base):
    """A person (officer, leader, citizen) or a machine (a worker, an integration) that may act."""

    __tablename__ = "account"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    groups: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    agency: Mapped[str | None] = mapped_column(String(50))
    is_service: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WorkerSeen(Base):
    """When a worker last asked for tasks of a topic: shows which topics nobody serves."""

    __tablename__ = "worker_seen"

    worker_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    topic: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class PaymentOrder(Base):
    """A fee to pay for a dossier, and what the payment gateway said about it."""

    __tablename__ = "payment_order"

    txn_ref: Mapped[str] = mapped_column(String(100), primary_key=True)
    instance_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    order_info: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending, paid, failed
    message_name: Mapped[str] = mapped_column(String(255))
    bank_txn_no: Mapped[str | None] = mapped_column(String(100))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    gateway_reply: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# what the Decision 766 indicators read of a dossier (engine.indicator_queries): PostgreSQL answers from the index alone
INDICATOR_COLUMNS = ("status", "channel", "procedure_code", "due_at", "extended_due_at", "paused_at",
                     "supplement_requests", "resolved_at", "resolved_days", "fee_requested_at", "paid_online_at",
                     "dissatisfied_at")
LONG_RESOLVED_DAYS = 60  # dossiers resolved more than this many days after receipt are indexed apart (carried over)


def _indicator_indexes() -> tuple[Index, ...]:
    unresolved, long = text("resolved_at IS NULL"), text(f"resolved_days > {LONG_RESOLVED_DAYS}")
    columns = list(INDICATOR_COLUMNS)
    return (Index("ix_dossier_received_at", "received_at", postgresql_include=["agency", *columns]),
            Index("ix_dossier_agency_received_at", "agency", "received_at", postgresql_include=columns),
            Index("ix_dossier_unresolved", "agency", "received_at", sqlite_where=unresolved,
                  postgresql_where=unresolved, postgresql_include=columns),
            Index("ix_dossier_long_resolved", "resolved_at", sqlite_where=long, postgresql_where=long,
                  postgresql_include=["agency", "received_at", *INDICATOR_COLUMNS]))


class Dossier(Base):
    """The clock of a dossier (hồ sơ): when it was submitted, received and is due, its pauses, its end."""

    __tablename__ = "dossier"
    # an agency's open dossiers by status (the inbox's status filter) and by receipt (its received order); the
    # dossiers of a period, by receipt, for the Decision 766 indicators (migration 0020)
    __table_args__ = tuple(Index(f"ix_dossier_open_agency_{c}", "agency", c, sqlite_where=text("finished_at IS NULL"),
                                 postgresql_where=text("finished_at IS NULL")) for c in ("status", "received_at")
                           ) + _indicator_indexes()

    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str | None] = mapped_column(String(255), index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))  # online, counter
    deadline_unit: Mapped[str] = mapped_column(String(20))  # working_days, working_hours, days
    deadline_amount: Mapped[float] = mapped_column(Float)
    clock_rule: Mapped[str] = mapped_column(String(10))  # pause: the clock stops; restart: it starts again
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    pauses: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {"from": …, "to": …}
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    warn_hours: Mapped[float] = mapped_column(Float, default=4.0)  # warn this many working hours before due
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # 1-10, engine.dossiers.STATUSES
    extended_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the new appointment of Form 04
    owner_id: Mapped[str | None] = mapped_column(String(12), index=True)  # the applicant's identification number
    agency: Mapped[str | None] = mapped_column(String(64), index=True)  # the receiving agency (procedure.toml)
    procedure_name: Mapped[str | None] = mapped_column(String(500))
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    applicant_name: Mapped[str | None] = mapped_column(String(200))  # who applied, as the inbox lists it
    supplement_requests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # Forms 02 issued
    supplements_allowed: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # a leader may raise it
    # Decision 766 (engine.indicators766): NgayKetThucXuLy — the first end status (3, 7, 8, 9, 10) or the end —, the
    # calendar days it took, when a fee was first asked for (status 6), when one was paid through the gateway, and
    # when the citizen rated the dossier "Không hài lòng" (engine.ratings)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_days: Mapped[float | None] = mapped_column(Float)
    fee_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_online_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    dissatisfied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ScheduledStart(Base):
    """A process's timer start event: when its next instance starts (one schedule per process key)."""

    __tablename__ = "scheduled_start"

    process_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(300))
    element_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # date, duration, cycle
    expression: Mapped[str] = mapped_column(Text)
    next_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    remaining: Mapped[int | None] = mapped_column(Integer)  # occurrences left; None: for ever
    interval_seconds: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class DossierSequence(Base):
    """The last dossier number given by an agency on a day (dossier codes ``{agency}-{yyMMdd}-{NNNN}``)."""

    __tablename__ = "dossier_sequence"

    agency: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


# register their tables on this metadata
from engine import audit_models, citizen_models, office_models  # noqa: E402,F401
from engine import task_upload_models, web_session_models  # noqa: E402,F401
