"""What the desk tests share: a sev1 product-quality incident with an approved line, and reading the queued e-mails."""

from datetime import timedelta

from handlers.core.effects import Mail
from handlers.text.markup import Message
from tests.conftest import Chat

TEAM = ("alice", "bob", "carol", "dave", "erin")  # at sev1: alice commander, carol spokesperson, bob legal+exec, erin liaison
LINE = "我们对 PB-20 充电宝过热深表歉意 🙏 <b>Refunds & replacements</b> open today.\nNext update at 11:00."
HEADLINE = "PB-20 power banks: refunds open"


def approved_incident(chat: Chat, clock, line: str = "declare product-quality sev1 Battery overheating") -> str:
    """Declare, acknowledge every role, and have carol's draft approved by legal and the commander; the room."""
    _incident, room = chat.declare(line=line)
    for person in TEAM:
        assert chat.say(person, "ack", room).ok
    clock.advance(timedelta(minutes=5))
    assert chat.say("carol", f"draft {LINE}", room).ok
    assert chat.say("bob", "approve", room).ok
    assert chat.say("alice", "approve", room).ok
    return room


def mails(chat: Chat) -> list[Mail]:
    """The e-mails queued on the outbox's mail channel, oldest first."""
    return [Mail.from_payload(row.payload) for row in chat.outbox() if row.kind == "mail" and row.platform == "mail"]


def fire(chat: Chat) -> list[tuple[str, str]]:
    """Fire every due nudge as the scheduler would; (to, text) of each message it queued (e-mails are not messages)."""
    before = {row.id for row in chat.outbox()}
    chat.fire_due()
    fresh = [row for row in chat.outbox() if row.id not in before and "message" in row.payload]
    return [(row.payload.get("to") or f"#room{row.incident_id}", Message.from_json(row.payload["message"]).plain()) for row in fresh]


def room_posts(chat: Chat) -> list[str]:
    """The plain text of every message queued for the incident's room."""
    return [Message.from_json(row.payload["message"]).plain() for row in chat.outbox() if row.kind == "post" and "to" not in row.payload]
