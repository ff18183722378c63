"""The shell's bookkeeping tables: the outbox of effects to deliver, the platform events already processed, the prompts
awaiting a reply, the names learned from the platforms, and where the Matrix bot's sync resumes and its direct rooms.
Times are UTC."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, event
from sqlmodel import AutoString, Field, SQLModel

from storage.lanes import outbox_lane
from storage.types import json_field as _json
from storage.types import utc_field as _utc


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


@event.listens_for(Outbox, "before_insert")
def _set_lane(_mapper, _connection, row: Outbox) -> None:
    row.lane = outbox_lane(str(row.kind), row.payload or {})
