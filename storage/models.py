"""SQLModel tables: the domain's data. Times are UTC."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, event, text
from sqlalchemy.orm import Session
from sqlmodel import AutoString, Field, SQLModel

from config.model import Severity
from storage.lanes import outbox_lane
from storage.types import UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


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


class Signal(SQLModel, table=True):
    """An early-warning alert from a monitoring tool; repeats of its dedup key within the window update it."""

    __table_args__ = (Index("ix_signal_dedup", "dedup_key", "last_at"), Index("ix_signal_source", "source", "first_at"))

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    source: str = Field(max_length=80)
    dedup_key: str = Field(max_length=200)
    title: str = Field(max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    summary: str = ""
    volume: float | None = None
    baseline: float | None = None
    sentiment: float | None = None
    keywords: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    playbook: str = Field(max_length=60)
    severity: Severity = Field(sa_type=AutoString(length=4))  # the config's literal, stored as text
    count: int = 1
    first_at: datetime = _utc()
    last_at: datetime = _utc()
    posts: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # outbox ids of its triage messages
    incident_id: int | None = Field(default=None, foreign_key="incident.id")


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


class Nudge(SQLModel, table=True):
    """A durable reminder: the database row is the source of truth."""

    __table_args__ = (
        Index("ix_nudge_due", "state", "due_at"),
        Index("ix_nudge_subject", "incident_id", "kind", "subject"),
        Index("ix_nudge_leased", "state", "lease_until"),  # the few claimed rows, found without reading every pending one
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


class Outbox(SQLModel, table=True):
    """An effect decided by a handler and waiting to be delivered to a platform."""

    __table_args__ = (
        Index("ix_outbox_pending", "platform", "state", "id"),
        Index("ix_outbox_lane", "incident_id", "platform", "state", "lane"),
    )

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int | None = Field(default=None, foreign_key="incident.id")
    platform: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    payload: dict = _json()
    state: str = Field(default="pending", max_length=10)
    attempts: int = 0
    created_at: datetime = _utc()
    next_attempt_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    lease_until: datetime | None = _utc(default=None)
    lease_owner: str | None = Field(default=None, max_length=40)  # the worker delivering it while lease_until holds
    result: dict = _json()
    error: str | None = None
    lane: str = Field(default="room", max_length=80)  # effects of one incident in one lane stay in order (outbox_lane)


class ProcessedEvent(SQLModel, table=True):
    """A platform delivery already handled (dedup key), with the reply it got."""

    __table_args__ = (Index("ix_processed_event_at", "at"),)  # pruned by age

    key: str = Field(primary_key=True, max_length=200)
    at: datetime = _utc()
    reply: dict = _json()


class Prompt(SQLModel, table=True):
    """A question the bot asked one person (a reason for a pressed button); only their reply to it, once, completes it."""

    __table_args__ = (Index("ux_prompt_message", "platform", "chat_id", "message_id", unique=True),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    platform: str = Field(max_length=20)
    user_id: str = Field(max_length=64)  # the presser's platform id: the only one whose reply counts
    person: str = Field(max_length=60)
    command: str = Field(max_length=200)  # as pressed, vetted as the presser's own words
    chat_id: str = Field(max_length=64)
    thread_id: str | None = Field(default=None, max_length=64)
    message_id: str = Field(max_length=64)  # the question the reply must answer
    created_at: datetime = _utc()
    expires_at: datetime = _utc()
    used_at: datetime | None = _utc(default=None)
    used_by_event: str | None = Field(default=None, max_length=200)  # the reply that used it: its redelivery may finish it


class LearnedName(SQLModel, table=True):
    """A platform user name seen on a member's own messages (a Telegram @username), so mentions by that name resolve."""

    __table_args__ = (UniqueConstraint("platform", "name"), UniqueConstraint("platform", "external_id"))

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    platform: str = Field(max_length=20)
    name: str = Field(max_length=64)  # lower case: Telegram user names are case-insensitive
    external_id: str = Field(max_length=64)  # whose name it is now; a changed name replaces the old one
    person: str = Field(max_length=60)
    learned_at: datetime = _utc()


@event.listens_for(Session, "after_flush")
def _note_work(session: Session, _context) -> None:
    """Mark a session that wrote nudges or outbox rows free to claim (session.info["work"]): only then is the delivery loop
    woken (a row written already leased is sent by its holder)."""
    if not session.info.get("work"):
        changed = (*session.new, *session.dirty, *session.deleted)
        session.info["work"] = any(isinstance(row, Nudge) or (isinstance(row, Outbox) and not row.lease_owner) for row in changed)


@event.listens_for(Outbox, "before_insert")
def _set_lane(_mapper, _connection, row: Outbox) -> None:
    row.lane = outbox_lane(str(row.kind), row.payload or {})


class StakeholderNotice(SQLModel, table=True):
    """One stakeholder contact told (PRODUCT.md §10): an e-mail queued, a call or reply recorded, or a drill's rehearsal."""

    __table_args__ = (Index("ix_stakeholdernotice_incident", "incident_id", "list_key"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    list_key: str = Field(max_length=60)
    contact: str = Field(max_length=120)
    how: str = Field(max_length=10)  # mail (its outbox row tells the outcome), call (recorded by a person), simulated (drill)
    version: int | None = None
    outbox_id: int | None = None  # the queued Mail: pending, delivered or failed is read from it
    note: str | None = Field(default=None, max_length=500)
    by: str = Field(max_length=60)
    at: datetime = _utc()


class Inquiry(SQLModel, table=True):
    """A press inquiry `Q<n>` (PRODUCT.md §10): outlet, question, deadline, owner, and its answer or decline."""

    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id", index=True)
    number: int
    outlet: str = Field(max_length=120)
    question: str = Field(max_length=2000)
    email: str | None = Field(default=None, max_length=254)
    due_at: datetime | None = _utc(default=None)
    owner: str = Field(max_length=60)  # the role that answers it (the spokesperson)
    created_by: str = Field(max_length=60)
    created_at: datetime = _utc()
    state: str = Field(default="open", max_length=10)  # open | answered | declined
    version: int | None = None
    reason: str | None = Field(default=None, max_length=500)
    answered_by: str | None = Field(default=None, max_length=60)
    answered_at: datetime | None = _utc(default=None)
    outbox_id: int | None = None  # the answer's Mail, when the inquiry has an address


class Claim(SQLModel, table=True):
    """A circulating claim about the incident (the rumour log, PRODUCT.md §10): C<n>, its reach, status and answer."""

    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: int = Field(default=None, primary_key=True)  # None only until the row is first flushed
    incident_id: int = Field(foreign_key="incident.id")
    number: int
    text: str
    url: str | None = Field(default=None, max_length=1000)
    reach: int = Field(default=0, sa_type=BigInteger)  # people it reached, as counted; wide claims pass 2³¹
    status: str = Field(default="unverified", max_length=12)  # unverified, true, false, partly, unknown
    note: str | None = None
    by: str = Field(max_length=60)
    created_at: datetime = _utc()
    verified_by: str | None = Field(default=None, max_length=60)
    verified_at: datetime | None = _utc(default=None)
    statement_id: int | None = Field(default=None, foreign_key="statement.id")  # the approved version that answers it
    answered_by: str | None = Field(default=None, max_length=60)
    answered_at: datetime | None = _utc(default=None)
    signal_id: int | None = Field(default=None, foreign_key="signal.id")  # tracked from this signal's triage post


class SignalLink(SQLModel, table=True):
    """Which incident a signal is attached to (PRODUCT.md §7), how it was matched, and the other incidents it also matched."""

    __table_args__ = (Index("ix_signal_link_incident", "incident_id"),)

    signal_id: int = Field(foreign_key="signal.id", primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    how: str = Field(max_length=12)  # incident | dedup | keywords | manual | declared
    also: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # other open incidents it matched
    readings: dict = _json()  # what it added to the reaction, by slot (buckets.Contribution): a detach takes exactly that out
    at: datetime = _utc()


class IncidentKeyword(SQLModel, table=True):
    """A keyword of a signal attached to an incident: later signals that share it are attached there too."""

    __table_args__ = (Index("ix_incident_keyword_word", "word"),)

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    word: str = Field(max_length=60, primary_key=True)  # case-folded
    signals: int = 1  # attached signals carrying it: detaching the last one forgets the word


class ReactionBucket(SQLModel, table=True):
    """The readings of one incident in one ten-minute slot since its declaration, summed on intake (queries stay flat)."""

    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    slot: int = Field(primary_key=True)
    readings: int = 0
    volume: float = 0.0
    negative: float = 0.0  # the volume of readings with a negative sentiment
    sentiment_sum: float = 0.0
    sentiment_n: int = 0


class MatrixSync(SQLModel, table=True):
    """Where the Matrix bot's /sync resumes: the `next_batch` after the last batch whose events were all decided."""

    account: str = Field(primary_key=True, max_length=255)  # the bot's user id
    next_batch: str = Field(sa_type=AutoString(length=2000))
    at: datetime = _utc()


class MatrixDirect(SQLModel, table=True):
    """The direct room the Matrix bot shares with one person: made for a DM, or joined on their invitation; reused after."""

    account: str = Field(primary_key=True, max_length=255)  # the bot's user id
    user_id: str = Field(primary_key=True, max_length=255)
    room_id: str = Field(max_length=255)
