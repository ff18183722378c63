"""The tables of the world outside the team (PRODUCT.md §7, §10): signals and their links to incidents, the incidents'
keywords, stakeholder notices, press inquiries and claims. Times are UTC."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import AutoString, Field, SQLModel

from config.model import Severity
from storage.types import json_field as _json
from storage.types import utc_field as _utc


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
