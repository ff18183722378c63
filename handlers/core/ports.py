"""The vocabulary between adapters and the domain: commands in, effects out."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from handlers.core.cleaning import clean, cleaned
from handlers.text.markup import Message


class Capability(StrEnum):
    """What a platform can do; the domain asks instead of catching errors."""

    CREATE_ROOMS = "create_rooms"
    INVITE = "invite"
    PIN = "pin"
    EDIT = "edit"
    BUTTONS = "buttons"
    EPHEMERAL = "ephemeral"
    DM = "dm"


class EffectKind(StrEnum):
    """The kinds of outbox rows an adapter must deliver."""

    OPEN_ROOM = "open_room"  # create the incident room, post and pin the card
    POST = "post"  # a message to the incident room, or to `to` (a room id)
    REFRESH_CARD = "refresh_card"  # re-render the pinned card and edit it in place
    INVITE = "invite"  # bring people into the incident room
    DM = "dm"  # a direct message to one person (`to` is their platform id)
    REFRESH_LINE = "refresh_line"  # post and pin the approved line, or edit the pinned one in place
    PUBLISH = "publish"  # the approved text, verbatim, to a broadcast channel (`to`), for `publication_id`
    EDIT = "edit"  # edit in place the message an earlier POST (outbox row `ref`) delivered
    REPORT = "report"  # write the incident's review report files, then post `message` and where they are to the room
    ANSWER = "answer"  # the answer to a command, by the way its platform named (`to` is the person who asked)


@dataclass(frozen=True)
class UserRef:
    """Who typed a command, as the platform knows them."""

    platform: str
    external_id: str
    display: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "display", cleaned(self.display, multiline=False))  # a platform name is outside text too


@dataclass(frozen=True)
class RoomRef:
    """Where a command was typed; thread_id is a Telegram forum topic."""

    platform: str
    external_id: str
    thread_id: str | None = None
    direct: bool = False


@dataclass(frozen=True)
class Command:
    """A command as the domain sees it, whatever platform it came from."""

    user: UserRef
    text: str
    room: RoomRef | None = None
    event_id: str | None = None  # the platform's delivery id, for de-duplication
    disguised: bool = field(default=False, init=False, compare=False)  # held control or bidi characters (now removed)

    def __post_init__(self) -> None:
        # Every command is cleaned here, whatever built it (typed, button, form, prompt reply): no path can skip it.
        result = clean(self.text)
        object.__setattr__(self, "text", result.text)
        object.__setattr__(self, "disguised", result.disguised)


@dataclass
class Reply:
    """The answer to the person who typed the command."""

    message: Message
    ok: bool = True
    private: bool = True  # ephemeral where the platform has it
    incident_id: int | None = None
    data: dict = field(default_factory=dict)
    echoed: bool = False  # the same message was posted in the room the command came from


class Clock(Protocol):
    """Where time comes from; stored times are UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)


class OffsetClock:
    """The real clock's pace from a chosen starting instant: for rehearsals and restart tests."""

    def __init__(self, start: datetime):
        self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        """The shifted now, in UTC."""
        return datetime.now(UTC) + self._offset


class FakeClock:
    """A clock that moves only when told: for tests and the demo."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The current fake time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._now += delta
