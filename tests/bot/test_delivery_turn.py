"""The outbox batch's turn (bot/outbox/lanes.py): a row that waited aside is never sent once its batch stopped, and a
channel's pace holds even when the turn comes back long after the slot a message waited for (review findings)."""

import asyncio
import time
import types
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.matrix import client as matrix_client
from bot.matrix.rooms import Rooms as DirectRooms
from bot.outbox import worker as worker_module
from bot.outbox.adapter import TURN, Turn, waiting_aside
from bot.outbox.lanes import deliver_side_by_side
from bot.outbox.worker import Deliverer
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from handlers.core.context import in_every_room
from handlers.core.effects import Post
from handlers.text.markup import text
from storage.db import make_engine, session
from tests.bot.test_delivery_lanes import Rooms, hand, row, until  # noqa: F401  (hand: the fixture)
from tests.conftest import Chat
from tests.fakes.slack_api import FakeSlack


class Paced(Rooms):
    """Rooms whose post "paced" waits aside (as for Slack's pace) until the test lets it go."""

    def __init__(self):
        super().__init__()
        self.released = asyncio.Event()

    async def post(self, room, to, message):
        if message.plain() == "paced":
            async with waiting_aside():
                await self.released.wait()
        return await super().post(room, to, message)


async def test_a_row_waiting_aside_is_not_sent_once_the_database_went_away(chat: Chat, monkeypatch):
    first, _ = chat.declare()
    second, _ = chat.declare(line="declare product-quality sev2 Checkout outage")
    platform = Paced()
    await Deliverer(chat.engine, chat.deps, platform).deliver_pending()
    platform.calls.clear()
    with session(chat.engine) as db:
        in_every_room(db, first, chat.clock.now(), Post(text("paced")))
        in_every_room(db, second, chat.clock.now(), Post(text("quick")))
        db.commit()
    real_save = worker_module._save

    def save(db, row):  # the database goes away as "quick" is recorded, while "paced" waits aside
        if "quick" in str(row.payload):
            platform.released.set()
            raise OperationalError("UPDATE", {}, Exception("the database went away"))
        return real_save(db, row)

    monkeypatch.setattr(worker_module, "_save", save)
    with pytest.raises(OperationalError):
        await Deliverer(chat.engine, chat.deps, platform).deliver_pending()
    assert [what for _, what in platform.calls] == ["quick"]  # "paced" was not sent: its fate could not be written
    monkeypatch.setattr(worker_module, "_save", real_save)
    chat.clock.advance(timedelta(minutes=5))  # the database is back, the leases ran out
    await Deliverer(chat.engine, chat.deps, platform).deliver_pending()
    assert [what for _, what in platform.calls].count("paced") == 1  # sent once, after all
    assert [what for _, what in platform.calls].count("quick") == 2  # the one in flight at the outage: repeated, as ever


async def test_the_pace_holds_when_the_turn_comes_back_after_the_slots(hand):  # noqa: F811
    async with FakeSlack() as fake:
        adapter = SlackAdapter(web_client(fake.token, fake.api_url))
        await adapter.dm("U0ALICE", text("first"))
        hand.running = False  # Alice's channel got a message just now
        gate, at = asyncio.Event(), []
        real_call = adapter._call

        async def call(method, **params):
            if method == "chat.postMessage":
                at.append(hand.now)
            return await real_call(method, **params)

        adapter._call = call  # type: ignore[method-assign]

        async def step(_session, one) -> int:
            if one.id == 3:
                await gate.wait()  # a slow send of another lane: it holds the turn past both slots
                return 1
            await adapter.dm("U0ALICE", text(f"n{one.id}"))
            return 1

        rows = [row(1, 7, lane="a"), row(2, 7, lane="b"), row(3, 8, lane="c")]
        going = asyncio.ensure_future(deliver_side_by_side(make_engine("sqlite://"), rows, step))
        try:
            assert await until(lambda: len(hand.parked) == 2)  # both messages to Alice wait aside for their slots
            hand.now += 5  # both slots pass while the slow lane holds the turn
            for due, woken in list(hand.parked):
                hand.parked.remove((due, woken))
                woken.set_result(None)
            await asyncio.sleep(0.05)
            gate.set()
            while not going.done():
                if hand.parked:
                    hand.to_next_wait()
                await asyncio.sleep(0.01)
        finally:
            gate.set()
        await going
    assert len(at) == 2 and at[1] - at[0] >= 1.0, at  # one a second, though both their slots had passed


class Homeserver:
    """A Matrix client that makes rooms and sends at once."""

    user_id = "@bot:test"

    def __init__(self):
        self.made = 0

    async def room_create(self, **_):
        self.made += 1
        return types.SimpleNamespace(room_id=f"!dm{self.made}:test")


async def test_a_matrix_dm_to_a_new_member_never_waits_aside_holding_the_direct_rooms_lock(monkeypatch):
    client = Homeserver()
    rooms = DirectRooms(client, None, client.user_id)
    monkeypatch.setattr(rooms, "_stored", lambda user_id=None: [])  # nobody has a direct room stored yet

    async def remember(user, room):
        rooms._direct[user] = room
        return room

    monkeypatch.setattr(rooms, "remember", remember)
    rooms._direct["@known:test"] = "!known:test"
    monkeypatch.setitem(matrix_client._NOT_BEFORE, client, time.monotonic() + 0.3)  # the server asked for a short wait
    people = {1: "@new:test", 2: "@known:test"}

    async def step(_session, one) -> int:
        await rooms.direct(people[one.id])
        return 1

    rows = [row(1, 1, "dm", "dm:@new:test"), row(2, 1, "dm", "dm:@known:test")]
    assert await asyncio.wait_for(deliver_side_by_side(make_engine("sqlite://"), rows, step), 5) == 2  # no deadlock


async def test_a_slack_channel_forgotten_while_its_row_waits_aside_is_still_paced_and_sent(monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACED_KEPT", 2)
    adapter, turn = SlackAdapter(web_client("xoxb-test", "http://127.0.0.1:9/api/"), pace=0.05), Turn()
    adapter._last_post["A"] = adapter._posted["A"] = time.monotonic()  # A just got a message: the next one waits aside

    async def waiter():
        TURN.set(turn)
        await turn.take()
        turn.untouched = True
        try:
            await adapter._paced("A")
        finally:
            turn.give()

    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # it books its slot and hands the turn on
    await turn.take()  # another lane's long call holds the turn past ten of A's paces
    await asyncio.sleep(0.6)
    for name in ("C1", "C2"):
        adapter._last_post[name] = adapter._posted[name] = 0.0
    await adapter._paced("B")  # more channels known than kept: A, quiet for ten paces, is forgotten
    turn.give()
    await waiting  # before: KeyError 'A', a counted attempt
    assert "A" in adapter._posted


async def test_a_row_cancelled_while_it_waits_aside_ends_cancelled_not_stopped():
    turn = Turn(halting=lambda: True)  # SIGTERM came, then the grace ran out: the batch is cancelled

    async def waiting() -> None:
        TURN.set(turn)
        await turn.take()
        turn.untouched = True
        try:
            async with waiting_aside():
                await asyncio.sleep(60)
        finally:
            turn.give()

    task = asyncio.create_task(waiting())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):  # not Stopped: a deferral would go on writing rows after the cancel
        await task
    assert not turn.held() and not turn._lock.locked()
