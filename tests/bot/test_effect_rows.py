"""Effects as rows: each type stored as its kind and JSON in the shape rows have always had, so rows queued by an older
version still deliver; the delivery table covers every type; a row no type reads is given up at once, untouched."""

import inspect
from dataclasses import dataclass
from io import StringIO

import pytest
from sqlmodel import select

from bot.console.front import ConsoleAdapter
from bot.outbox import effects as delivery
from bot.outbox.adapter import Adapter
from bot.outbox.effects import DELIVERIES, Handler, read
from bot.outbox.worker import Deliverer
from bot.slack.delivery import SlackAdapter
from bot.telegram.delivery import TelegramAdapter
from handlers.core import effects
from handlers.core.context import queue
from handlers.core.effects import DM, Answer, Edit, Effect, Invite, OpenRoom, Post, Publish, RefreshCard, RefreshLine, Report
from handlers.text.markup import Button, Message, text
from storage.db import session
from storage.models import Outbox

SAID = Message.from_json({"spans": [["b", "Declared"], ["", " #1"]], "buttons": [["Ack", "#1 ack", "primary", ""]]})
JSON = {"spans": [["b", "Declared"], ["", " #1"]], "buttons": [["Ack", "#1 ack", "primary", ""]]}

# (kind, payload exactly as the version before typed effects wrote it, the effect it holds)
OLD_ROWS = [
    (
        "open_room",
        {"name": "crisis-20260302-x", "topic": "#1 X", "private": True, "drill": False},
        OpenRoom("crisis-20260302-x", "#1 X", private=True, drill=False),
    ),
    ("post", {"message": JSON}, Post(SAID)),
    ("post", {"message": JSON, "to": "C0EXEC"}, Post(SAID, to="C0EXEC")),
    ("post", {"message": JSON, "to": "C0TRIAGE", "notice": True}, Post(SAID, to="C0TRIAGE", notice=True)),
    ("refresh_card", {}, RefreshCard()),
    ("invite", {"users": ["U1", "U2"]}, Invite(("U1", "U2"))),
    ("dm", {"message": JSON, "to": "U0BOB"}, DM(SAID, to="U0BOB")),
    ("refresh_line", {}, RefreshLine()),
    ("publish", {"publication_id": 3, "to": "@newsroom"}, Publish(3, to="@newsroom")),
    ("edit", {"message": JSON, "ref": 7}, Edit(SAID, ref=7)),
    ("report", {"message": JSON}, Report(SAID)),
    (
        "answer",
        {"message": JSON, "private": False, "to": "U0A", "channel": "C0G", "response_url": "https://hooks.slack.com/r/1"},
        Answer(SAID, to="U0A", private=False, channel="C0G", response_url="https://hooks.slack.com/r/1"),
    ),
    ("answer", {"message": JSON, "private": True, "to": "U0A", "channel": "", "response_url": None}, Answer(SAID, to="U0A", channel="")),
    (
        "answer",
        {"message": JSON, "private": True, "to": "U0A", "channel": "C0G", "in_channel": True},
        Answer(SAID, to="U0A", channel="C0G", in_channel=True),
    ),
    (
        "answer",
        {"message": JSON, "private": False, "to": "42", "channel": "-1001", "thread": 7, "reply_to": 99, "refused": True},
        Answer(SAID, to="42", private=False, channel="-1001", thread=7, reply_to=99, refused=True),
    ),
]


@pytest.mark.parametrize(("kind", "payload", "effect"), OLD_ROWS, ids=[f"{kind}-{n}" for n, (kind, _p, _e) in enumerate(OLD_ROWS)])
def test_a_row_queued_by_the_older_version_reads_into_its_dataclass_and_is_written_the_same_way(kind, payload, effect):
    assert read(Outbox(platform="slack", kind=kind, payload=payload), DELIVERIES) == effect
    assert (effect.kind, effect.payload()) == (kind, {key: value for key, value in payload.items() if value is not None})


def test_the_delivery_table_covers_every_type_of_effect_and_every_adapter_has_a_method_for_each():
    declared = {cls for cls in vars(effects).values() if inspect.isclass(cls) and issubclass(cls, Effect) and cls is not Effect}
    assert set(DELIVERIES) == declared and len({cls.kind for cls in declared}) == len(declared)
    methods = {name for name, _ in inspect.getmembers(Adapter, inspect.iscoroutinefunction)}
    missing = {
        a.platform: methods - {n for n, _ in inspect.getmembers(a, inspect.iscoroutinefunction)}
        for a in (SlackAdapter, TelegramAdapter, ConsoleAdapter)
    }
    # Slack's and Telegram's fronts queue Answer effects; the console answers as the command is handled.
    assert missing == {"slack": set(), "telegram": set(), "console": {"answer"}}


async def deliver(chat, adapter: ConsoleAdapter | None = None, **table) -> str:
    """Run one delivery pass on the console platform; what it printed."""
    adapter = adapter or ConsoleAdapter(StringIO())
    await Deliverer(chat.engine, chat.deps, adapter, **table).deliver_pending()
    return adapter.out.getvalue()


def add_rows(chat, *rows: tuple[int | None, str, dict]) -> None:
    with session(chat.engine) as db:
        now = chat.clock.now()
        for incident_id, kind, payload in rows:
            db.add(Outbox(incident_id=incident_id, platform="console", kind=kind, payload=payload, created_at=now, next_attempt_at=now))
        db.commit()


async def test_rows_in_the_old_shape_reach_the_platform(chat):
    incident_id, room = chat.declare()
    await deliver(chat)
    add_rows(
        chat,
        (incident_id, "post", {"message": {"spans": [["", "Old post in the room"]]}}),
        (None, "post", {"message": {"spans": [["", "Old post to triage"]]}, "to": "triage"}),
        (incident_id, "dm", {"message": {"spans": [["", "Old DM"]], "buttons": [["Ack", "#1 ack", "", ""]]}, "to": "erin"}),
        (incident_id, "invite", {"users": ["dave"]}),
    )
    shown = await deliver(chat)
    assert f"[#{room}] Old post in the room" in shown and "[#triage] Old post to triage" in shown
    assert "[DM → erin] Old DM\n      [Ack] → /crisis #1 ack" in shown and f"[#{room}] invited @dave" in shown


@pytest.mark.parametrize(
    ("kind", "payload", "why"),
    [
        ("wave", {"to": "erin"}, "unknown effect kind 'wave'"),
        ("dm", {"message": {"spans": [["", "to nobody"]]}}, "unreadable dm effect"),
        ("post", {"message": "not a message"}, "unreadable post effect"),
        ("post", {"message": {"spans": [["", "x"]]}, "to": "triage", "colour": "red"}, None),  # a key no field reads is ignored
    ],
)
async def test_a_row_no_type_reads_is_given_up_at_once_and_nothing_reaches_the_platform(chat, kind, payload, why):
    add_rows(chat, (None, kind, payload))
    shown = await deliver(chat)
    with session(chat.engine) as db:
        row = db.exec(select(Outbox)).one()
    if why is None:
        assert row.state == "sent" and shown == "[#triage] x\n"
    else:
        assert (row.state, row.attempts, shown) == ("failed", 1, "") and why in row.error


@dataclass(frozen=True)
class Wave(Effect):
    """A type of effect added the way docs/architecture.md says: the dataclass, one row in the table, one adapter method."""

    kind = "wave"
    what = "a wave"

    to: str


class WavingConsole(ConsoleAdapter):
    async def wave(self, to: str) -> dict:
        return self.show(f"DM → {to}", "👋")


async def wave(d: delivery.Delivery) -> dict:
    return await d.adapter.wave(d.effect.to)


async def test_a_new_type_of_effect_needs_its_dataclass_a_row_in_the_table_and_an_adapter_method(chat):
    with session(chat.engine) as db:
        queue(db, None, "console", Wave(to="erin"), chat.clock.now())
        queue(db, None, "console", DM(text("and a DM"), to="erin"), chat.clock.now())
        db.commit()
    shown = await deliver(chat, WavingConsole(StringIO()), deliveries={**DELIVERIES, Wave: Handler(wave, in_room=False)})
    assert shown == "[DM → erin] 👋\n[DM → erin] and a DM\n"
    with session(chat.engine) as db:
        queue(db, None, "console", Wave(to="erin"), chat.clock.now())
        db.commit()
    assert await deliver(chat, WavingConsole(StringIO())) == ""  # the app's table does not list it: given up, not guessed


def test_buttons_survive_the_row():
    message = text("Approve?") + Message(buttons=[Button("Approve", "#1 approve v2", "primary", "")])
    effect = Edit(message, ref=4)
    assert read(Outbox(platform="telegram", kind="edit", payload=effect.payload()), DELIVERIES) == effect
