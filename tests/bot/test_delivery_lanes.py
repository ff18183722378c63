"""Delivery that never stalls: one incident's busy or slow room delays only that incident's messages; another incident's
go out meanwhile, and each incident's still go in order. The Slack pace is read on a clock the test moves by hand, so
what is checked is who waited for what, not how fast this machine is."""

import asyncio

import pytest

from bot.app import OneVoice
from bot.outbox.adapter import RetryLater, waiting_aside
from bot.outbox.lanes import deliver_side_by_side, groups_of
from bot.outbox.worker import Deliverer
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from config.settings import Settings
from handlers.core.context import in_every_room, queue
from handlers.core.effects import DM, Post, RefreshCard
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef
from handlers.text.markup import text
from storage.db import make_engine, session
from storage.models import Outbox
from tests.conftest import Chat, seeded
from tests.fakes.slack_api import FakeSlack
from tests.templates import copy_of_starter

CONFIG = copy_of_starter()


class HandClock:
    """Stands for the Slack adapter's `time` and `asyncio`: while it runs, a wait passes at once; once stopped, a wait
    lasts until the test moves the time past it."""

    def __init__(self):
        self.now, self.running, self.waits = 100.0, True, []
        self.parked: list[tuple[float, asyncio.Future]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        if self.running:
            self.now += seconds
            return
        woken = asyncio.get_running_loop().create_future()
        self.parked.append((self.now + seconds, woken))
        await woken

    def stop(self) -> None:
        """Stop the time, a while after every message so far: each channel's next message may go at once."""
        self.now += 60
        self.running = False

    def to_next_wait(self) -> None:
        """Move the time to the end of the earliest wait, and end every wait due by then."""
        self.now = max(self.now, min(due for due, _ in self.parked))
        for due, woken in [p for p in self.parked if p[0] <= self.now]:
            self.parked.remove((due, woken))
            woken.set_result(None)


async def until(condition, seconds: float = 10.0) -> bool:
    """Whether `condition()` comes true within `seconds` of real time (the delivery runs meanwhile)."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return True
        await asyncio.sleep(0.01)
    return condition()


class Workspace:
    """OneVoice on SQLite with Slack attached (at the default pace of one message a second per channel), speaking to a
    fake Slack on loopback."""

    def __init__(self, fake: FakeSlack, folder):
        self.fake, self.clock = fake, FakeClock()
        settings = Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{folder / 'lanes.db'}"))
        self.bot = OneVoice(settings, config=CONFIG, clock=self.clock)
        self.bot.attach(SlackAdapter(web_client(fake.token, fake.api_url)))

    async def declare(self, title: str) -> tuple[int, str]:
        """Declare an incident and deliver it: its id and its Slack channel."""
        command = Command(UserRef("slack", "U0ALICE"), f"declare product-quality sev2 {title}", RoomRef("slack", "C0GENERAL"))
        reply = self.bot.handle(command)
        assert reply.ok, reply.message.plain()
        await self.bot.deliver()
        channel = next(c["id"] for c in self.fake.channels.values() if title.lower().split()[0] in c["name"])
        return reply.incident_id, channel

    def queue(self, incident_id: int, *effects) -> None:
        """Queue effects in an incident's room, as the domain does."""
        with session(self.bot.engine) as db:
            for effect in effects:
                in_every_room(db, incident_id, self.clock.now(), effect)
            db.commit()

    def posted(self, channel: str, prefix: str) -> list[str]:
        return [m["text"] for m in self.fake.messages_in(channel) if (m["text"] or "").startswith(prefix)]


@pytest.fixture
async def hand(monkeypatch):
    clock = HandClock()
    monkeypatch.setattr(slack_delivery, "time", clock)
    monkeypatch.setattr(slack_delivery, "asyncio", clock)
    return clock


@pytest.fixture
async def workspace(tmp_path, hand):
    async with FakeSlack() as fake:
        fake.add_channel("general", channel_id="C0GENERAL")
        space = Workspace(fake, tmp_path)
        yield space
        space.bot.engine.dispose()


async def test_a_busy_room_does_not_hold_up_another_incidents_room(workspace, hand):
    busy, busy_room = await workspace.declare("Battery overheating")
    idle, idle_room = await workspace.declare("Checkout outage")
    workspace.queue(busy, *(Post(text(f"update {n}")) for n in range(10)))  # ten notes in a row: ten seconds of pace
    workspace.queue(idle, Post(text("idle news")))  # queued behind all of them
    hand.stop()  # from now on the pace is waited out only when the test moves the clock
    start = hand.now
    delivering = asyncio.create_task(workspace.bot.deliver())
    try:
        assert await until(lambda: workspace.posted(idle_room, "idle news")), "the idle room's post waited behind the busy room"
        assert hand.now == start  # not one second of anybody's pace went by before it
        assert len(workspace.posted(busy_room, "update")) <= 1  # the busy room is still waiting out its pace
    finally:
        while not delivering.done():  # the busy room's pace runs out, a second at a time
            if hand.parked:
                hand.to_next_wait()
            await asyncio.sleep(0.01)
    await delivering
    assert workspace.posted(busy_room, "update") == [f"update {n}" for n in range(10)]  # in order, each once
    assert hand.now - start >= 9  # the busy room kept one message a second: nine waits between its ten


async def test_a_busy_room_does_not_hold_up_a_dm_or_a_broadcast_of_its_own_incident(workspace, hand):
    busy, busy_room = await workspace.declare("Battery overheating")
    workspace.fake.add_channel("newsroom", channel_id="C0NEWS", members=[workspace.fake.bot_user_id])
    workspace.queue(busy, *(Post(text(f"update {n}")) for n in range(10)))  # ten seconds of the room's pace
    with session(workspace.bot.engine) as db:  # then, queued behind them: a DM to Bob and a post to the newsroom
        queue(db, busy, "slack", DM(text("you are the scribe now"), to="U0BOB"), workspace.clock.now())
        queue(db, busy, "slack", Post(text("holding statement"), to="C0NEWS"), workspace.clock.now())
        db.commit()
    hand.stop()
    start = hand.now

    def sent_to(channel: str) -> list[str]:
        return [params["text"] for name, params in workspace.fake.calls if name == "chat.postMessage" and params["channel"] == channel]

    delivering = asyncio.create_task(workspace.bot.deliver())
    try:
        told = lambda: "you are the scribe now" in sent_to("U0BOB") and "holding statement" in sent_to("C0NEWS")  # noqa: E731
        assert await until(told), "the DM or the broadcast waited behind the room"
        assert hand.now == start  # not one second of the room's pace went by before them
        assert len(workspace.posted(busy_room, "update")) <= 1
    finally:
        while not delivering.done():
            if hand.parked:
                hand.to_next_wait()
            await asyncio.sleep(0.01)
    await delivering
    assert workspace.posted(busy_room, "update") == [f"update {n}" for n in range(10)]  # the room's own, in order, once each
    assert sent_to("U0BOB").count("you are the scribe now") == 1 and sent_to("C0NEWS") == ["holding statement"]


async def test_messages_to_one_channel_from_groups_side_by_side_each_wait_their_own_turn(hand):
    async with FakeSlack() as fake:
        adapter = SlackAdapter(web_client(fake.token, fake.api_url))
        await adapter.dm("U0ALICE", text("first"))
        hand.running = False  # Alice's channel got a message just now: the next ones wait
        both = asyncio.ensure_future(asyncio.gather(*(adapter.dm(to, text(f"to {to}")) for to in ("U0ALICE", "U0ALICE", "U0BOB"))))
        try:
            assert await until(lambda: len(hand.parked) == 2)  # the two to Alice wait; Bob's went at once
            assert sorted(due - hand.now for due, _ in hand.parked) == [1.0, 2.0]  # one a second, never two in one
        finally:
            while not both.done():
                if hand.parked:
                    hand.to_next_wait()
                await asyncio.sleep(0.01)
        await both
    sent = [params["channel"] for name, params in fake.calls if name == "chat.postMessage"]
    assert sorted(sent) == ["U0ALICE", "U0ALICE", "U0ALICE", "U0BOB"]  # each posted once


class Rooms:
    """A platform on which one incident's room answers slowly (until the test opens its gate) or asks to retry later."""

    platform = "console"

    def __init__(self):
        self.calls: list[tuple[int, str]] = []  # (incident, what) in the order they got through
        self.slow: set[int] = set()
        self.gate = asyncio.Event()
        self.refuse_once: set[int] = set()
        self.in_flight = self.most_in_flight = 0  # calls under way now, and at most

    async def _through(self, room, what: str) -> dict:
        incident = room.incident_id
        if incident in self.refuse_once:
            self.refuse_once.discard(incident)
            raise RetryLater("busy", after=60)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if incident in self.slow:
                await self.gate.wait()
            await asyncio.sleep(0)  # another row would get in here if two were in flight
        finally:
            self.in_flight -= 1
        self.calls.append((incident, what))
        return {"message_id": str(len(self.calls))}

    async def open_room(self, room, effect, card):
        return {**await self._through(room, "open"), "external_id": f"C{room.incident_id}", "card_message_id": "m1"}

    async def post(self, room, to, message):
        return await self._through(room, message.plain())

    async def edit_card(self, room, card):
        return await self._through(room, "card")

    async def invite(self, room, users):
        return {"invited": users}

    async def dm(self, to, message):
        return {"message_id": "dm"}

    async def pin(self, room, message_id, message):
        return await self._through(room, "line")


async def two_open_rooms(engine, config, clock) -> tuple[Chat, int, int, Rooms, Deliverer]:
    """Two incidents declared and their rooms opened on a Rooms platform; (chat, first, second, platform, deliverer)."""
    chat = Chat(engine, config, clock)
    first, _room = chat.declare()
    second, _other = chat.declare(line="declare product-quality sev2 Checkout outage")
    platform = Rooms()
    deliverer = Deliverer(chat.engine, chat.deps, platform)
    await deliverer.deliver_pending()
    platform.calls.clear()
    return chat, first, second, platform, deliverer


async def test_one_row_at_a_time_reaches_the_platform_so_a_crash_repeats_at_most_one(any_engine, config, clock):
    chat, slow, quick, platform, deliverer = await two_open_rooms(any_engine, config, clock)  # SQLite and PostgreSQL
    with session(chat.engine) as db:
        for n in range(3):
            in_every_room(db, slow, chat.clock.now(), Post(text(f"slow {n}")))
        in_every_room(db, quick, chat.clock.now(), Post(text("quick")))
        db.commit()
    platform.slow.add(slow)
    delivering = asyncio.create_task(deliverer.deliver_pending())
    try:
        await asyncio.sleep(0.3)  # the slow room's first post is in flight: nothing else may be (its fate is not written)
        assert platform.calls == [] and platform.in_flight == 1
    finally:
        platform.gate.set()
    assert await delivering == 4
    assert platform.most_in_flight == 1
    assert [what for incident, what in platform.calls if incident == slow] == ["slow 0", "slow 1", "slow 2"]
    assert (quick, "quick") in platform.calls


async def test_a_waiting_post_holds_back_only_its_own_lane(any_engine, config, clock):
    chat, held, other, platform, deliverer = await two_open_rooms(any_engine, config, clock)
    with session(chat.engine) as db:
        for effect in (Post(text("first")), Post(text("second")), RefreshCard()):
            in_every_room(db, held, chat.clock.now(), effect)
        in_every_room(db, other, chat.clock.now(), Post(text("elsewhere")))
        db.commit()
    platform.refuse_once.add(held)  # Slack says: later
    await deliverer.deliver_pending()
    assert (held, "second") not in platform.calls  # behind the first, which waits for its retry
    assert (held, "card") in platform.calls and (other, "elsewhere") in platform.calls  # other lanes and rooms go on


def row(row_id: int, incident: int | None, kind: str = "post", lane: str = "room", **payload) -> Outbox:
    return Outbox(id=row_id, incident_id=incident, platform="console", kind=kind, lane=lane, payload=payload)


def test_each_lane_is_a_group_and_an_edit_follows_the_post_it_edits():
    rows = [row(1, 7), row(2, None, "post", "to:C0NEWS"), row(3, 8), row(4, 7, "dm", "dm:bob"), row(5, None, "edit", "edit:2", ref=2)]
    rows += [row(6, 7), row(7, 7, "edit", "edit:1", ref=1)]
    assert [[r.id for r in group] for group in groups_of(rows)] == [[1, 6, 7], [2, 5], [3], [4]]


def test_an_incident_whose_room_is_being_opened_is_one_group_its_opening_first():
    rows = [row(1, 7, "open_room"), row(2, 7), row(3, 7, "dm", "dm:bob"), row(4, 8), row(5, 8, "dm", "dm:bob")]
    assert [[r.id for r in group] for group in groups_of(rows)] == [[1, 2, 3], [4], [5]]


async def test_a_group_that_fails_stops_the_others_even_a_row_waiting_aside():
    rows = [row(1, 8), row(2, 7), row(3, 8)]
    released, sent = asyncio.Event(), []

    async def step(_session, one: Outbox) -> int:
        if one.id == 1:
            async with waiting_aside():  # incident 8's first row waits for its channel's pace, the turn handed on
                await released.wait()
        if one.id == 2:
            released.set()
            raise OSError("the database went away")  # incident 7's row fails while 8's is waiting to be sent
        sent.append(one.id)
        return 1

    with pytest.raises(OSError):
        await deliver_side_by_side(make_engine("sqlite://"), rows, step)
    assert sent == []  # the row waiting aside was never sent (its fate could not be written), nor the one behind it
