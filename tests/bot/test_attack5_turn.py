"""Attack 5 on the outbox batch's turn (bot/outbox/lanes.py, bot/outbox/adapter.py): how long a failed or stopping batch
takes to surface while rows wait aside, and whether the turn is free whatever way a wait aside ends."""

import asyncio
import time
from datetime import timedelta

import pytest
from nio import ErrorResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select

from bot.matrix import client as matrix_client
from bot.outbox.adapter import TURN, RetryLater, Stopped, Turn, waiting_aside
from bot.outbox.lanes import deliver_side_by_side
from bot.outbox.worker import Deliverer
from bot.slack.delivery import SlackAdapter, web_client
from handlers.core.context import in_every_room
from handlers.core.effects import Post
from handlers.text.markup import text
from storage.db import make_engine, session
from storage.models import Outbox
from tests.bot.test_delivery_lanes import Rooms
from tests.conftest import Chat

PROMPT = 0.5  # seconds: what "a failed batch surfaces promptly" allows


def row(row_id: int, incident: int, lane: str = "room") -> Outbox:
    return Outbox(id=row_id, incident_id=incident, platform="console", kind="post", lane=lane, payload={})


class Homeserver:
    """A Matrix client, as _paced sees one: a key of its rate limits."""


def failing_after(wait_aside):
    """A step: the last row's database goes away; every other row first waits (aside) for its platform."""

    async def step(_session, one: Outbox) -> int:
        if one.lane == "fails":
            raise OperationalError("UPDATE", {}, Exception("the database went away"))
        await wait_aside()
        return 1

    return step


async def test_a_failed_batch_surfaces_without_waiting_out_every_booked_slack_slot():
    adapter = SlackAdapter(web_client("xoxb-test", "http://127.0.0.1:9/api/"), pace=0.5)
    adapter._last_post["D1"] = adapter._posted["D1"] = time.monotonic()  # Alice's DM just got a message
    # four incidents each DM Alice (four lanes, one channel): slots booked 0.5 s apart, up to 2 s ahead
    rows = [row(i, incident=i, lane="dm:U0ALICE") for i in range(1, 5)] + [row(9, incident=9, lane="fails")]
    started = time.monotonic()
    with pytest.raises(OperationalError):
        await deliver_side_by_side(make_engine("sqlite://"), rows, failing_after(lambda: adapter._paced("D1")))
    assert time.monotonic() - started < PROMPT  # took ~2 s: the worker's loop (and its SIGTERM) wait as long


async def test_a_failed_batch_surfaces_without_waiting_out_a_matrix_rate_limit_aside(monkeypatch):
    homeserver = Homeserver()
    monkeypatch.setitem(matrix_client._NOT_BEFORE, homeserver, time.monotonic() + 2.0)  # the server asked for 2 s
    rows = [row(1, incident=1), row(9, incident=9, lane="fails")]
    started = time.monotonic()
    with pytest.raises(OperationalError):
        await deliver_side_by_side(make_engine("sqlite://"), rows, failing_after(lambda: matrix_client._paced(homeserver, "room_send")))
    assert time.monotonic() - started < PROMPT  # took ~2 s (up to 10 s for a longer limit)


async def test_sigterm_ends_a_matrix_rows_wait_aside_at_once(monkeypatch):
    halting = [False]
    homeserver = Homeserver()
    monkeypatch.setitem(matrix_client._NOT_BEFORE, homeserver, time.monotonic() + 2.0)

    async def step(_session, one: Outbox) -> int:
        if one.id == 2:
            halting[0] = True  # SIGTERM while row 1 waits aside
            return 1
        await matrix_client._paced(homeserver, "room_send")
        return 1

    started = time.monotonic()
    with pytest.raises(Stopped):
        await deliver_side_by_side(make_engine("sqlite://"), [row(1, 1), row(2, 2)], step, halting=lambda: halting[0])
    assert time.monotonic() - started < PROMPT


async def test_an_error_inside_a_wait_aside_after_the_batch_failed_leaves_the_turn_free():
    turn = Turn()
    inside = asyncio.Event()

    async def waiter():
        TURN.set(turn)
        await turn.take()
        turn.untouched = True
        try:
            async with waiting_aside():
                inside.set()
                await asyncio.sleep(0.05)
                raise KeyError("a bug in the adapter's wait")
        finally:
            turn.give()

    task = asyncio.create_task(waiter())
    await inside.wait()
    turn.stopped = True  # another group failed meanwhile
    with pytest.raises(KeyError):  # the row's own error, its fate written under the turn
        await task
    assert not turn._lock.locked()
    await asyncio.wait_for(turn.take(), 0.5)  # nobody is left holding it
    turn.give()


async def test_a_row_waiting_aside_twice_never_has_two_rows_in_flight():
    adapter = SlackAdapter(web_client("xoxb-test", "http://127.0.0.1:9/api/"), pace=0.1)
    now = time.monotonic()
    for channel in ("C1", "C2"):
        adapter._last_post[channel] = adapter._posted[channel] = now
    in_flight, most, order = [0], [0], []

    async def step(_session, one: Outbox) -> int:
        channel = "C1" if one.incident_id in (1, 2) else "C2"
        await adapter._paced(channel)
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        order.append(one.id)
        await asyncio.sleep(0.01)  # the send
        in_flight[0] -= 1
        return 1

    rows = [row(1, 1), row(2, 2), row(3, 3), row(4, 1), row(5, 3)]
    assert await asyncio.wait_for(deliver_side_by_side(make_engine("sqlite://"), rows, step), 3) == 5
    assert most[0] == 1
    assert order.index(1) < order.index(4) and order.index(3) < order.index(5)  # each lane in claim order


class LongWait(Rooms):
    """Rooms whose post "paced" waits aside (a Telegram group's budget: up to a minute) once, running `meanwhile`."""

    def __init__(self, meanwhile):
        super().__init__()
        self.meanwhile, self.waited = meanwhile, False

    async def post(self, room, to, message):
        if message.plain() == "paced" and not self.waited:
            self.waited = True
            async with waiting_aside():
                await self.meanwhile()
        return await super().post(room, to, message)


async def test_a_row_whose_lease_ran_out_while_it_waited_aside_is_not_sent_by_two(chat: Chat):
    first, _ = chat.declare()
    other = Rooms()

    async def meanwhile():  # the heartbeat could not renew (the database away for this worker): the lease runs out
        chat.clock.advance(timedelta(minutes=5))
        await Deliverer(chat.engine, chat.deps, other, worker="other").deliver_pending()  # another replica takes it

    platform = LongWait(meanwhile)
    await Deliverer(chat.engine, chat.deps, platform).deliver_pending()
    with session(chat.engine) as db:
        in_every_room(db, first, chat.clock.now(), Post(text("paced")))
        db.commit()
    await asyncio.wait_for(Deliverer(chat.engine, chat.deps, platform, worker="one").deliver_pending(), 3)
    sent = [what for _, what in platform.calls + other.calls]
    assert sent.count("paced") == 1, sent


class Limited:
    """A homeserver that rate-limits every send for 30 s (longer than PACE_SECONDS: the outbox's to wait)."""

    def __init__(self):
        self.sends = 0

    async def room_send(self, *_, **__):
        self.sends += 1
        return ErrorResponse("Too Many Requests", "M_LIMIT_EXCEEDED", retry_after_ms=30_000)


async def test_a_long_matrix_rate_limit_sends_the_rest_of_the_batch_back_without_calling():
    homeserver = Limited()

    async def step(_session, one: Outbox) -> int:
        with pytest.raises(RetryLater):
            await matrix_client.call(homeserver, "room_send", f"!room{one.incident_id}:test")
        return 0

    rows = [row(1, 1), row(2, 2), row(3, 3)]
    await deliver_side_by_side(make_engine("sqlite://"), rows, step)
    assert homeserver.sends == 1  # the two others knew the server's answer already


async def test_a_held_row_the_batch_claimed_and_that_waits_aside_is_not_sent_again_by_deliver_held(chat: Chat):
    first, _ = chat.declare()
    deliverer: list[Deliverer] = []

    async def meanwhile():  # the command's transaction committed late: its answer is handed to deliver_held only now
        with session(chat.engine) as db:
            held = db.exec(select(Outbox).where(Outbox.state == "pending")).one()
            db.expunge(held)
        # as written in the command's transaction: its lease ran out before it got here (not a change to write back)
        set_committed_value(held, "lease_until", chat.clock.now() - timedelta(seconds=1))
        await deliverer[0].deliver_held(held)

    platform = LongWait(meanwhile)
    await Deliverer(chat.engine, chat.deps, platform).deliver_pending()
    with session(chat.engine) as db:
        in_every_room(db, first, chat.clock.now(), Post(text("paced")))
        db.commit()
    deliverer.append(Deliverer(chat.engine, chat.deps, platform, worker="one"))
    await asyncio.wait_for(deliverer[0].deliver_pending(), 3)
    sent = [what for _, what in platform.calls]
    assert sent.count("paced") == 1, sent
