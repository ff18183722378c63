"""The vocabulary between adapters and the domain: commands in, replies out (the effects are in core/effects.py)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from handlers.core.cleaning import clean, cleaned
from handlers.text.markup import Message


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
    # Never delivered again once acknowledged (a Slack slash command): a read-only verb answered in the ack needs no key.
    acked_once: bool = False
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
    outcome: str | None = None  # why it is not ok, for the metrics: "usage", "refused" or "error"
    form: str | None = None  # the form the platform should open instead ("declare": declare with no words)
    declared: bool = False  # an incident was opened (the console takes the declarer into its room)
    duplicate: bool = False  # a redelivery of a command already handled: its stored answer, nothing done again
    answer_queued: bool = False  # the answer is an outbox effect (the platform's route), committed with the command
    echoed: bool = False  # the same message was posted in the room the command came from
    work: bool = False  # the command queued effects or reminders: the delivery loop is woken for them (only then)
    answer_held: Any = None  # the answer's outbox row, written leased to this worker, which sends it at once
    quiet: bool = False  # no answer at all: one more refusal to a stranger who was told already
    read_only: bool = False  # its verb changes nothing (the registry's `changes=False`)
    unreachable: bool = False  # the database could not be reached: nothing was decided on this try


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
