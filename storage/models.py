"""SQLModel tables: the domain's data. Times are UTC."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, event, text
from sqlalchemy.orm import Session
from sqlmodel import AutoString, Field, SQLModel

from config.model import Severity

# The tables by concern, two modules besides this one; every table is importable from here (and registered with the
# metadata Alembic reads, which imports this module).
from storage.delivery import LearnedName, MatrixDirect, MatrixSync, Outbox, ProcessedEvent, Prompt  # noqa: F401
from storage.outside import Claim, IncidentKeyword, Inquiry, Signal, SignalLink, StakeholderNotice  # noqa: F401
from storage.types import json_field as _json
from storage.types import utc_field as _utc


class Incident(SQLModel, table=True):
    """One crisis, from declaration to close."""

    __table_args__ = (Index("ux_incident_public_id", "public_id", unique=True),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    title: str = Field(max_length=200)
    slug: str = Field(max_length=80)
    playbook: str = Field(max_length=60)
    severity: Severity = Field(sa_type=AutoString(length=4))  # the config's literal, stored as text
    phase: str = Field(max_length=12, index=True)
    drill: bool = False
    declared_by: str = Field(max_length=60)
    declared_at: datetime = _utc()
    phase_changed_at: datetime = _utc()
    next_update_at: datetime | None = _utc(default=None)
    resolved_at: datetime | None = _utc(default=None)
    closed_at: datetime | None = _utc(default=None)
    summary: str | None = None
    last_task_number: int = 0
    public_id: str | None = Field(default=None, max_length=24)  # the public statement page, once published there
    scenario: str | None = Field(default=None, max_length=60)  # a drill's scenario key


class Room(SQLModel, table=True):
    """An incident's room on one platform; the external ids arrive when it is opened."""

    __table_args__ = (
        UniqueConstraint("incident_id", "platform"),
        Index("ix_room_lookup", "platform", "external_id", "thread_id"),
    )

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    platform: str = Field(max_length=20)
    name: str = Field(max_length=80)
    external_id: str | None = Field(default=None, max_length=64)
    thread_id: str | None = Field(default=None, max_length=64)
    card_message_id: str | None = Field(default=None, max_length=64)
    line_message_id: str | None = Field(default=None, max_length=64)  # the pinned approved line


class PersonHandle(SQLModel, table=True):
    """A team member's identity on one platform (platform, external id)."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    person: str = Field(max_length=60, index=True)
    platform: str = Field(max_length=20)
    external_id: str = Field(max_length=64)


class RoleAssignment(SQLModel, table=True):
    """A person holding a role in an incident; ended_at is set when they hand it off."""

    __table_args__ = (
        Index(
            "ux_one_holder_per_role",
            "incident_id",
            "role",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(max_length=40)
    person: str = Field(max_length=60)
    assigned_by: str = Field(max_length=60)
    assigned_at: datetime = _utc()
    acked_at: datetime | None = _utc(default=None)
    ended_at: datetime | None = _utc(default=None)


class ChecklistItem(SQLModel, table=True):
    """One item of an incident's checklist, numbered within the incident."""

    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    number: int
    title: str = Field(max_length=500)
    owner_role: str | None = Field(default=None, max_length=40)
    owner_person: str | None = Field(default=None, max_length=60)
    phase: str = Field(max_length=12)
    due_at: datetime | None = _utc(default=None)
    state: str = Field(default="open", max_length=8)
    reason: str | None = None
    changed_by: str | None = Field(default=None, max_length=60)
    changed_at: datetime | None = _utc(default=None)


class TimelineEvent(SQLModel, table=True):
    """Something that happened in an incident, by whom and when."""

    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    at: datetime = _utc()
    actor: str = Field(max_length=60)
    kind: str = Field(max_length=30)
    text: str = ""
    data: dict = _json()


class Statement(SQLModel, table=True):
    """A numbered version of an incident's statement: pending, approved, superseded or rejected."""

    __table_args__ = (
        UniqueConstraint("incident_id", "version"),
        # The one approved voice: two approvals racing on two replicas cannot both win.
        Index(
            "ux_one_current_line",
            "incident_id",
            unique=True,
            sqlite_where=text("state = 'approved'"),
            postgresql_where=text("state = 'approved'"),
        ),
    )

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    version: int
    text: str
    headline: str | None = Field(default=None, max_length=200)  # the public title approved with the text; None: before headlines
    author: str = Field(max_length=60)
    created_at: datetime = _utc()
    state: str = Field(default="pending", max_length=12)
    decided_by: str | None = Field(default=None, max_length=60)
    decided_at: datetime | None = _utc(default=None)
    reason: str | None = None
    kind: str | None = Field(default=None, max_length=16)  # holding, update, apology, …; None: written before kinds
    met_severity: str | None = Field(default=None, max_length=8)  # the most severe rule its signatures meet (§4 countersign)
    needs_severity: str | None = Field(default=None, max_length=8)  # the most severe the incident was while it was the line


class Approval(SQLModel, table=True):
    """One approver role's approval of one version."""

    __table_args__ = (UniqueConstraint("statement_id", "role"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    statement_id: int = Field(foreign_key="statement.id")
    role: str = Field(max_length=40)
    person: str = Field(max_length=60)
    at: datetime = _utc()


class Publication(SQLModel, table=True):
    """One version sent to (or recorded on) one broadcast target."""

    __table_args__ = (UniqueConstraint("statement_id", "target", "platform"), Index("ix_publication_incident", "incident_id", "id"))

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    statement_id: int = Field(foreign_key="statement.id")
    target: str = Field(max_length=60)
    platform: str = Field(max_length=20)  # slack, telegram, console, manual, page
    state: str = Field(default="queued", max_length=10)  # queued, sent, failed, cancelled, simulated
    by: str = Field(max_length=60)
    at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    url: str | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=64)
    error: str | None = None


class Lesson(SQLModel, table=True):
    """A lesson for the review: what went well, or what to improve."""

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=12)  # went_well | to_improve
    text: str
    author: str = Field(max_length=60)
    at: datetime = _utc()


class FollowUp(SQLModel, table=True):
    """A follow-up action with an owner and a due date, tracked until done, also after the incident is closed."""

    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    number: int
    text: str = Field(max_length=500)
    owner: str = Field(max_length=60)
    due_at: datetime | None = _utc(default=None)
    state: str = Field(default="open", max_length=8)  # open | done
    created_by: str = Field(max_length=60)
    created_at: datetime = _utc()
    done_at: datetime | None = _utc(default=None)


class DrillInject(SQLModel, table=True):
    """One scripted event of a drill: posted into the drill room at its time, answered by the team."""

    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    number: int
    kind: str = Field(max_length=30)
    due_at: datetime = _utc()
    answer_within: int  # seconds after it arrives
    content: dict = _json()  # the inject as the scenario gave it (source, text, reach…): a running drill ignores later edits
    posted_at: datetime | None = _utc(default=None)
    answered_at: datetime | None = _utc(default=None)
    answered_by: str | None = Field(default=None, max_length=60)
    answer: str | None = None


NUDGE_ACTIVE = "state IN ('pending', 'snoozed')"  # the nudges still to fire (handlers.nudges.firing.ACTIVE)
NUDGE_HELD = f"{NUDGE_ACTIVE} AND lease_until IS NOT NULL"  # ... that a worker has claimed


class Nudge(SQLModel, table=True):
    """A durable reminder: the database row is the source of truth."""

    __table_args__ = (
        Index("ix_nudge_due", "state", "due_at"),
        Index("ix_nudge_subject", "incident_id", "kind", "subject"),
        Index("ix_nudge_leased", "state", "lease_until"),  # the few claimed rows, found without reading every pending one
        # Partial indexes on the active rows only: the claim and the next wake-up read them in order from the start, a plan
        # that does not need statistics (a young table has none) and costs the same with any number of far-future rows.
        Index("ix_nudge_active", "due_at", "id", postgresql_where=text(NUDGE_ACTIVE), sqlite_where=text(NUDGE_ACTIVE)),
        Index("ix_nudge_held", "lease_until", postgresql_where=text(NUDGE_HELD), sqlite_where=text(NUDGE_HELD)),
    )

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    kind: str = Field(max_length=30)
    subject: str = Field(default="", max_length=60)
    target: str = Field(max_length=80)
    due_at: datetime = _utc()
    reason: str = ""
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    repeat_seconds: int | None = None
    created_at: datetime = _utc()
    fired_at: datetime | None = _utc(default=None)
    lease_until: datetime | None = _utc(default=None)
    lease_owner: str | None = Field(default=None, max_length=40)  # the worker that claimed it
    first_due_at: datetime | None = _utc(default=None)  # when the thing was first due: "late by" counts from here


@event.listens_for(Session, "after_flush")
def _note_work(session: Session, _context) -> None:
    """Mark a session that wrote nudges or outbox rows free to claim (session.info["work"]): only then is the delivery loop
    woken (a row written already leased is sent by its holder)."""
    if not session.info.get("work"):
        changed = (*session.new, *session.dirty, *session.deleted)
        session.info["work"] = any(isinstance(row, Nudge) or (isinstance(row, Outbox) and not row.lease_owner) for row in changed)


class ReactionBucket(SQLModel, table=True):
    """The readings of one incident in one ten-minute slot since its declaration, summed on intake (queries stay flat)."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    slot: int = Field(primary_key=True)
    readings: int = 0
    volume: float = 0.0
    negative: float = 0.0  # the volume of readings with a negative sentiment
    sentiment_sum: float = 0.0
    sentiment_n: int = 0
