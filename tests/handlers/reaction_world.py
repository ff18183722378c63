"""A fake-clock world for the reaction tests: an incident, scripted signals arriving at given minutes, a published line."""

from datetime import timedelta

from config.model import RoomHandles
from handlers.core.effects import Post
from handlers.signals.intake import SignalIn, receive
from storage.db import session
from tests.conftest import Chat

DRAFT = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


class World:
    """Minutes since the declaration on the fake clock; signals sent as a monitoring tool would."""

    def __init__(self, chat: Chat, clock, severity: str = "sev2"):
        chat.config.triage_room = RoomHandles(console="triage")
        chat.config.signals.dedup_window = timedelta(minutes=10)
        self.chat, self.clock = chat, clock
        self.incident, self.room = chat.declare(line=f"declare product-quality {severity} Battery overheating")
        self.start = clock.now()

    def at(self, minutes: float) -> None:
        step = self.start + timedelta(minutes=minutes) - self.clock.now()
        assert step >= timedelta(0), "the fake clock only moves forward"
        self.clock.advance(step)

    def signal(self, minutes: float, **fields) -> str:
        """Send a signal at a minute; the triage post it produced (or edited), as the triage room reads it."""
        self.at(minutes)
        body = {"source": "listening", "title": fields.pop("title", "PB-20 posts"), **fields}
        with session(self.chat.engine) as db:
            receive(db, self.chat.deps, SignalIn.model_validate(body))
        return self.triage()[-1]

    def triage(self) -> list[str]:
        """Every message the triage room was sent or had edited, oldest first, with its buttons as [label → command]."""
        return [
            effect.message.plain() + "".join(f" [{b.label} → {b.command}]" for b in effect.message.buttons)
            for row, effect in self.chat.queued()
            if getattr(effect, "to", None) == "triage" or (row.kind == "edit" and effect.message.plain().startswith("📡 Signal"))
        ]

    def publish(self, minutes: float, version: int = 1, text: str = DRAFT) -> None:
        """Draft, approve and publish a version at a minute."""
        self.at(minutes)
        chat, room = self.chat, self.room
        assert chat.say("carol", f"draft {text}", room).ok
        assert chat.say("bob", f"approve v{version}", room).ok
        assert chat.say("alice", f"approve v{version}", room).ok
        assert chat.say("carol", "publish", room).ok

    def fire(self, minutes: float, about: str) -> list[tuple[str, str]]:
        """Move to a minute and fire what is due: (to, text) of each message mentioning `about`."""
        self.at(minutes)
        return [(to, m.plain()) for to, m in self.chat.fire() if about in m.plain()]

    def room_posts(self, about: str) -> list[str]:
        return [p.message.plain() for p in self.chat.effects(Post) if p.to is None and about in p.message.plain()]
