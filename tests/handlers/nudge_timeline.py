"""A fake-clock timeline for nudge tests, and the starter incident they run on."""

from datetime import timedelta

from sqlmodel import select

from handlers.text.markup import Message
from storage.db import session
from storage.models import Nudge
from tests.conftest import Chat

TEAM = ("alice", "bob", "carol", "dave", "erin")
HEAD = "⏰ #1 Battery overheating — "
DRAFT = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


class Timeline:
    """Minutes since the incident was declared, on the fake clock."""

    def __init__(self, chat: Chat, clock):
        self.chat, self.clock, self.start = chat, clock, clock.now()

    def at(self, minutes: float) -> None:
        """Move the clock to a minute after declaring (never back)."""
        step = self.start + timedelta(minutes=minutes) - self.clock.now()
        assert step >= timedelta(0), "the fake clock only moves forward"
        self.clock.advance(step)

    def fire(self, minutes: float, about: str = "") -> list[tuple[str, str]]:
        """Move to a minute and fire: (to, text) of each message that mentions `about`."""
        self.at(minutes)
        return [(to, m.plain()) for to, m in self.chat.fire() if about in m.plain()]

    def recipients(self, until: int, about: str, step: int = 5) -> list[tuple[int, str]]:
        """(minute, to) of every message mentioning `about`, firing every `step` minutes up to `until`."""
        start = int((self.clock.now() - self.start).total_seconds() // 60)
        heard = []
        for minute in range(start + step, until + 1, step):
            heard += [(minute, to) for to, _text in self.fire(minute, about)]
        return heard


def declare(chat: Chat, clock, severity: str = "sev1", ack: tuple[str, ...] = TEAM) -> tuple[str, Timeline]:
    incident_id, room = chat.declare(line=f"declare product-quality {severity} Battery overheating")
    assert incident_id == 1
    for person in ack:
        assert chat.say(person, "ack", room).ok
    return room, Timeline(chat, clock)


def messages_to(chat: Chat, to: str, about: str) -> list[Message]:
    """Every message queued for a person that mentions a text, oldest first."""
    rows = [row for row in chat.outbox() if "message" in row.payload and row.payload.get("to") == to]
    return [m for m in (Message.from_json(row.payload["message"]) for row in rows) if about in m.plain()]


def buttons(chat: Chat, to: str, about: str) -> list[str]:
    """The button commands of the last message to a person that mentions a text."""
    return [b.command for b in messages_to(chat, to, about)[-1].buttons]


def nudges_of(chat: Chat, kind: str) -> list[Nudge]:
    with session(chat.engine) as db:
        return list(db.exec(select(Nudge).where(Nudge.kind == kind).order_by(Nudge.id)))
