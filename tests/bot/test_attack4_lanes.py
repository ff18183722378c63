"""Attacks on the outbox's lanes side by side (bot/outbox/lanes.py): a database outage in the middle of a batch, a row that
waits aside when the batch has failed or is stopping, a cancelled batch, an adapter that never says `touched`."""

import asyncio
import random
import time
import types
from datetime import timedelta

import pytest

from bot.outbox import worker as worker_module
from bot.outbox.adapter import TURN, Turn, Undeliverable, touched, waiting_aside
from bot.outbox.lanes import deliver_side_by_side
from bot.outbox.worker import Deliverer
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from bot.telegram.limits import IncidentFirstLimiter
from handlers.core.context import in_every_room
from handlers.core.effects import Answer, Post
from handlers.text.markup import text
from storage.db import make_engine, session
from storage.models import Outbox
from tests.bot.test_delivery_lanes import Rooms
from tests.conftest import Chat
from tests.fakes.slack_api import FakeSlack


class Channels(Rooms):
    """A platform whose rooms wait their channel's pace aside (as Slack's `_paced` does) until the test opens the gate of
    a slow incident; every message that reaches it is counted."""

    def __init__(self):
        super().__init__()
        self.sent: list[tuple[int, str]] = []
        self.after_send = None  # called after each message reached the platform

    async def _through(self, room, what: str) -> dict:
        if room.incident_id in self.slow:
            async with waiting_aside():  # nothing of this row sent yet: the other lanes go on
                await self.gate.wait()
        touched()
        await asyncio.sleep(0)
        self.sent.append((room.incident_id, what))
        if self.after_send is not None:
            self.after_send(room.incident_id, what)
        return {"message_id": str(len(self.sent))}


def two_incidents(engine, config, clock) -> tuple[Chat, int, int, Channels, Deliverer]:
    chat = Chat(engine, config, clock)
    slow, _room = chat.declare()
    quick, _other = chat.declare(line="declare product-quality sev2 Checkout outage")
    platform = Channels()
    deliverer = Deliverer(chat.engine, chat.deps, platform)
    return chat, slow, quick, platform, deliverer


async def queued_behind_a_slow_room(chat: Chat, slow: int, quick: int, platform: Channels, deliverer: Deliverer) -> None:
    """Both rooms open; three posts queued in the slow room, whose pace is waited aside, and one in the quick room."""
    await deliverer.deliver_pending()
    with session(chat.engine) as db:
        for n in range(3):
            in_every_room(db, slow, chat.clock.now(), Post(text(f"slow {n}")))
        in_every_room(db, quick, chat.clock.now(), Post(text("quick")))
        db.commit()
    platform.sent.clear()
    platform.slow.add(slow)


async def test_a_database_outage_mid_batch_repeats_at_most_one_send(engine, config, clock, monkeypatch):
    chat, slow, quick, platform, deliverer = two_incidents(engine, config, clock)
    await deliverer.deliver_pending()
    with session(chat.engine) as db:
        in_every_room(db, slow, chat.clock.now(), Post(text("slow news")))  # waits for its channel's pace, aside
        in_every_room(db, quick, chat.clock.now(), Post(text("quick news")))  # sent meanwhile; then the database goes
        db.commit()
    platform.sent.clear()
    platform.slow.add(slow)
    away = {"now": False}
    real_save = worker_module._save

    def save(db, row):
        if away["now"]:
            raise OSError("the database went away")
        real_save(db, row)

    def went_away(incident, what):
        if what == "quick news":
            away["now"] = True
            platform.gate.set()  # the slow room's pace is over meanwhile

    platform.after_send = went_away
    monkeypatch.setattr(worker_module, "_save", save)
    with pytest.raises(OSError):
        await deliverer.deliver_pending()
    away["now"], platform.after_send = False, None  # the database is back; the leases of the failed batch run out
    chat.clock.advance(deliverer.leases.lease + timedelta(seconds=1))
    await deliverer.deliver_pending()
    said = [what for _incident, what in platform.sent]
    repeats = sum(said.count(what) - 1 for what in ("slow news", "quick news"))
    assert said.count("slow news") >= 1 and said.count("quick news") >= 1
    assert repeats <= 1, f"sent {said}: each message whose fate the outage swallowed is repeated"


async def test_sigterm_mid_batch_hands_back_every_row_not_sent_yet_at_once(engine, config, clock):
    chat, slow, quick, platform, deliverer = two_incidents(engine, config, clock)
    await queued_behind_a_slow_room(chat, slow, quick, platform, deliverer)
    delivering = asyncio.create_task(deliverer.deliver_pending())
    await asyncio.sleep(0.3)  # the slow room's first post waits for its pace aside; the quick room's went
    deliverer.stopping = True  # SIGTERM
    platform.gate.set()
    await delivering
    assert platform.sent == [(quick, "quick")]  # the one waiting aside was handed back, not sent; nothing started after
    other = Deliverer(chat.engine, chat.deps, Channels())  # another replica, at once: no lease to wait out
    await other.deliver_pending()
    assert other.adapter.sent == [(slow, "slow 0"), (slow, "slow 1"), (slow, "slow 2")]


async def test_a_cancelled_batch_leaves_the_turn_free_and_sends_nothing_more(engine, config, clock):
    chat, slow, quick, platform, deliverer = two_incidents(engine, config, clock)
    await queued_behind_a_slow_room(chat, slow, quick, platform, deliverer)
    delivering = asyncio.create_task(deliverer.deliver_pending())
    await asyncio.sleep(0.3)
    assert platform.sent == [(quick, "quick")]  # the quick room went while the slow one waits aside
    delivering.cancel()  # the scheduler's grace ran out
    with pytest.raises(asyncio.CancelledError):
        await delivering
    platform.gate.set()
    await asyncio.sleep(0.1)
    assert platform.sent == [(quick, "quick")]  # nothing went out after the cancel
    platform.slow.clear()
    chat.clock.advance(deliverer.leases.lease + timedelta(seconds=1))
    await asyncio.wait_for(deliverer.deliver_pending(), 5)  # a later pass is not stuck on a turn held by a dead task
    assert [what for incident, what in platform.sent if incident == slow] == ["slow 0", "slow 1", "slow 2"]


def row(row_id: int, incident: int | None, lane: str = "room") -> Outbox:
    return Outbox(id=row_id, incident_id=incident, platform="console", kind="post", lane=lane, payload={})


async def test_a_row_that_never_says_touched_still_holds_the_turn_while_it_sends():
    rows = [row(1, 7), row(2, 8), row(3, 9)]
    in_flight, most = [0], [0]

    async def step(_session, one: Outbox) -> int:  # an adapter that never calls touched(): its send keeps the turn
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        await asyncio.sleep(0.01)
        in_flight[0] -= 1
        return 1

    assert await deliver_side_by_side(make_engine("sqlite://"), rows, step) == 3
    assert most[0] == 1


async def test_a_second_wait_after_a_send_of_the_same_row_keeps_the_turn():
    rows = [row(1, 7), row(2, 8)]
    order: list[str] = []
    wait = asyncio.Event()

    async def step(_session, one: Outbox) -> int:
        if one.id == 1:
            touched()  # the channel is created
            order.append("create")
            async with waiting_aside():  # then the card waits for the channel's pace: it must not go aside now
                await asyncio.sleep(0.05)
            order.append("card")
            wait.set()
        else:
            order.append("other")
        return 1

    await deliver_side_by_side(make_engine("sqlite://"), rows, step)
    assert order == ["create", "card", "other"]


async def test_waiting_aside_outside_a_batch_or_in_a_task_it_started_never_gives_a_turn_it_does_not_hold():
    turn = Turn()
    TURN.set(turn)
    await turn.take()
    helper_done = asyncio.Event()

    async def helper():  # a task the row started (a pin a moment later): it inherits the context, not the turn
        async with waiting_aside():
            await asyncio.sleep(0)
        helper_done.set()

    turn.untouched = True
    await asyncio.create_task(helper())
    assert helper_done.is_set() and turn.held()  # the row still holds its turn
    turn.give()
    TURN.set(None)


class HalfShown:
    """A response_url that shows the first piece of an answer, then is used up (Slack allows only a few posts to one)."""

    shown: list[dict] = []

    def __init__(self, url, **_kwargs):
        self.url = url

    async def send_dict(self, body):
        self.shown.append(body)
        status = 200 if len(self.shown) == 1 else 404
        return types.SimpleNamespace(status_code=status, headers={}, body="used_up")


async def test_an_answer_half_shown_by_its_response_url_keeps_the_turn_while_it_waits(monkeypatch):
    monkeypatch.setattr(slack_delivery, "MESSAGE_BLOCKS", 1)  # the answer goes in pieces
    monkeypatch.setattr(slack_delivery, "AsyncWebhookClient", HalfShown)
    HalfShown.shown = []
    order: list[str] = []
    async with FakeSlack() as fake:
        adapter = SlackAdapter(web_client(fake.token, fake.api_url), pace=0.3)
        adapter._last_post["U0ALICE"] = time.monotonic()  # Alice just got a message: the next waits for the pace
        url = fake.api_url.replace("/api/", "/response/r1")
        answer = Answer(text("word " * 2000), to="U0ALICE", private=True, channel="C0GENERAL", response_url=url)

        async def step(_session, one: Outbox) -> int:
            if one.id == 1:
                await adapter.answer(answer)
                order.append(f"answer done, {len(HalfShown.shown)} piece(s) shown by the response_url")
            else:
                order.append(f"other row sent, {len(HalfShown.shown)} piece(s) of the answer out")
            return 1

        await deliver_side_by_side(make_engine("sqlite://"), [row(1, 7, "dm:alice"), row(2, 8)], step)
    assert order[0].startswith("answer done"), order  # nothing else in flight while half the answer is out


async def test_a_spent_telegram_group_budget_never_stalls_a_dm_lane():
    limiter = IncidentFirstLimiter(group_rate=120)  # two messages a second in the group once its budget is spent
    group, sends = -100123, []

    async def sent(what: str) -> bool:
        sends.append((what, time.monotonic()))
        return True

    async def request(chat: int, what: str, in_flight: float = 0.0) -> None:
        async def callback():
            await asyncio.sleep(in_flight)  # the request on its way: the row holds the turn meanwhile, rightly
            return await sent(what)

        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, None)

    for _n in range(120):  # the group's budget spent by the incidents' traffic so far (the overall pace not waited)
        await limiter._get_group_limiter(group).acquire()
    rows = [row(1, 7), row(2, 8)] + [row(3 + n, 7, "dm:bob") for n in range(8)]

    async def step(_session, one: Outbox) -> int:
        if one.id in (1, 2):
            await request(group, f"room of incident {one.incident_id}")  # both topics are in one forum group
        else:
            await request(4242, f"dm {one.id}", in_flight=0.1)
        return 1

    await deliver_side_by_side(make_engine("sqlite://"), rows, step)
    dms = [at for what, at in sends if what.startswith("dm")]
    gaps = [later - earlier for earlier, later in zip(dms, dms[1:], strict=False)]
    assert max(gaps) < 0.3, f"a DM waited {max(gaps):.2f}s for the group's budget: {[w for w, _ in sends]}"


class Jittery(Channels):
    """A platform where every room message first waits a moment aside (a channel's pace), at random."""

    def __init__(self, name: str, log: list, seed: int):
        super().__init__()
        self.name, self.log, self.random = name, log, random.Random(seed)

    async def _through(self, room, what: str) -> dict:
        async with waiting_aside():
            await asyncio.sleep(self.random.choice((0, 0, 0.001, 0.005)))
        touched()
        await asyncio.sleep(0)
        self.log.append((room.incident_id, what, self.name))
        return {"message_id": f"{self.name}-{len(self.log)}"}


async def test_two_workers_side_by_side_send_each_post_once_in_order_per_room(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incidents = [chat.declare(line=f"declare product-quality sev2 Outage number {n}")[0] for n in range(4)]
    log: list = []
    first, second = (Deliverer(chat.engine, chat.deps, Jittery(name, log, seed), batch=5) for seed, name in enumerate("AB"))
    await first.deliver_pending()
    log.clear()
    with session(chat.engine) as db:
        for n in range(6):
            for incident in incidents:
                in_every_room(db, incident, chat.clock.now(), Post(text(f"news {n}")))
        db.commit()

    async def drain(deliverer: Deliverer) -> None:
        for _round in range(200):
            if len([entry for entry in log if entry[1].startswith("news")]) == 6 * len(incidents):
                return
            await deliverer.deliver_pending()
            await asyncio.sleep(0.001)

    await asyncio.wait_for(asyncio.gather(drain(first), drain(second)), 20)
    for incident in incidents:
        said = [what for room, what, _worker in log if room == incident and what.startswith("news")]
        assert said == [f"news {n}" for n in range(6)], (incident, said)  # each once, in the order queued
    assert {worker for *_rest, worker in log} == {"A", "B"}  # both workers took part


class Refusing(Channels):
    """A platform that refuses for good every room message of the incidents in `refused` that is not a notice."""

    def __init__(self, refused: set[int]):
        super().__init__()
        self.refused = refused

    async def post(self, room, to, message):
        if room is not None and room.incident_id in self.refused and message.plain().startswith("doomed"):
            async with waiting_aside():  # both wait for their channel's pace first, side by side
                await asyncio.sleep(0.01)
            raise Undeliverable("channel_not_found")
        return await self._through(room, message.plain())


async def test_give_ups_in_two_groups_at_once_each_tell_their_own_room_once_in_the_same_pass(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    first, _room = chat.declare()
    second, _other = chat.declare(line="declare product-quality sev2 Checkout outage")
    platform = Refusing({first, second})
    deliverer = Deliverer(chat.engine, chat.deps, platform)
    await deliverer.deliver_pending()
    platform.sent.clear()
    with session(chat.engine) as db:
        for incident in (first, second):
            in_every_room(db, incident, chat.clock.now(), Post(text(f"doomed news of {incident}")))
        db.commit()
    await deliverer.deliver_pending()
    for incident in (first, second):
        told = [what for room, what in platform.sent if room == incident]
        assert len(told) == 1 and f"doomed news of {incident}" in told[0], told  # its own room, once, in this pass
