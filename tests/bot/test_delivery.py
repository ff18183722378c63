"""The outbox worker: every effect delivered once, in order per incident, despite faults."""

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.outbox.adapter import RetryLater, Undeliverable
from bot.outbox.leases import LEASE
from bot.outbox.worker import Deliverer
from handlers.core.effects import OpenRoom, RefreshCard
from storage.db import session
from storage.models import Outbox, Room
from tests.conftest import Chat


class FlakyChat:
    """A platform that fails the first calls it is told to, then records what it got."""

    platform = "console"

    def __init__(self, failures: int = 0, refuse: bool = False):
        self.failures, self.refuse, self.calls = failures, refuse, []

    async def _record(self, kind: str, detail: object) -> dict:
        if self.refuse:
            raise Undeliverable("channel_not_found")
        if self.failures:
            self.failures -= 1
            raise RetryLater("429 Too Many Requests", after=30)
        self.calls.append((kind, detail))
        return {"message_id": str(len(self.calls))}

    async def open_room(self, room, effect, card):
        await self._record("open_room", room.name)
        return {"external_id": "C123", "card_message_id": "m1"}

    async def post(self, room, to, message):
        return await self._record("post", message.plain())

    async def edit_card(self, room, card):
        return await self._record("edit_card", card.plain().split("\n")[0])

    async def invite(self, room, users):
        return await self._record("invite", tuple(users))

    async def dm(self, to, message):
        return await self._record("dm", to)

    async def pin(self, room, message_id, message):
        result = await self._record("pin", (message_id, message.plain()))
        return {"message_id": message_id or result["message_id"]}

    async def publish(self, to, text):
        return await self._record("publish", (to, text))


async def test_every_effect_is_delivered_once_in_order(chat):
    incident_id, room = chat.declare()
    adapter = FlakyChat()
    sent = await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    assert sent == len(adapter.calls) and adapter.calls[0] == ("open_room", room)
    assert await Deliverer(chat.engine, chat.deps, adapter).deliver_pending() == 0  # nothing twice
    with session(chat.engine) as db:
        assert db.exec(select(Room)).one().external_id == "C123"
        assert {row.state for row in db.exec(select(Outbox))} == {"sent"}


async def test_a_rate_limited_effect_waits_and_holds_back_its_incident(chat, clock):
    chat.declare()
    adapter = FlakyChat(failures=1)
    deliverer = Deliverer(chat.engine, chat.deps, adapter)
    assert await deliverer.deliver_pending() == 0  # the room could not be opened: nothing after it goes first
    assert adapter.calls == []
    clock.advance(timedelta(seconds=31))  # Retry-After honoured
    assert await deliverer.deliver_pending() > 0
    assert adapter.calls[0][0] == "open_room"
    with session(chat.engine) as db:
        first = db.exec(select(Outbox).order_by(Outbox.id)).first()
    assert (first.state, first.attempts) == ("sent", 1)


async def test_card_edits_in_one_batch_collapse_into_one(chat):
    incident_id, room = chat.declare()
    adapter = FlakyChat()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    for who in ("bob", "carol", "dave"):
        assert chat.say(who, "ack", "C123").ok  # the room now has the platform's id
    adapter.calls.clear()
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    assert [kind for kind, _ in adapter.calls].count("edit_card") == 1
    with session(chat.engine) as db:
        refreshes = db.exec(select(Outbox).where(Outbox.kind == RefreshCard.kind)).all()
    assert all(row.state == "sent" for row in refreshes)


async def test_a_refused_effect_is_marked_failed_not_retried_forever(chat):
    chat.declare()
    adapter = FlakyChat(refuse=True)
    await Deliverer(chat.engine, chat.deps, adapter).deliver_pending()
    with session(chat.engine) as db:
        first = db.exec(select(Outbox).order_by(Outbox.id)).first()
    assert first.state == "failed" and "channel_not_found" in first.error


async def test_effects_behind_a_deferred_one_wait_for_it_across_ticks(chat, clock):
    chat.declare()
    adapter = FlakyChat(failures=1)
    deliverer = Deliverer(chat.engine, chat.deps, adapter)
    await deliverer.deliver_pending()
    clock.advance(timedelta(seconds=5))  # a later tick, still inside the Retry-After
    assert await deliverer.deliver_pending() == 0 and adapter.calls == []
    clock.advance(timedelta(seconds=30))
    await deliverer.deliver_pending()
    assert adapter.calls[0][0] == "open_room"


class Stamping:
    """A platform shared by several workers: each call gets the next number of a common sequence and says who made it.

    The number lands in the outbox row's result, so the rows show who sent each effect and in which order."""

    platform = "console"

    def __init__(self, worker: str, log: list, pause: float = 0.0, gate: asyncio.Event | None = None):
        self.worker, self.log, self.pause, self.gate = worker, log, pause, gate
        self.at_gate = asyncio.Event()  # a call is waiting for the gate

    async def _stamp(self) -> dict:
        if self.gate is not None:
            self.at_gate.set()
            await self.gate.wait()
        await asyncio.sleep(self.pause)
        self.log.append(self.worker)
        return {"seq": len(self.log), "by": self.worker, "message_id": str(len(self.log))}

    async def open_room(self, room, effect, card):
        return {**await self._stamp(), "external_id": f"C{room.incident_id}", "card_message_id": "m1"}

    async def post(self, room, to, message):
        return await self._stamp()

    async def edit_card(self, room, card):
        return await self._stamp()

    async def invite(self, room, users):
        return await self._stamp()

    async def dm(self, to, message):
        return await self._stamp()

    async def pin(self, room, message_id, message):
        return await self._stamp()

    async def publish(self, to, text):
        return await self._stamp()


def busy_incidents(chat, count: int = 4) -> None:
    """Several incidents, each with its room opened and a few more effects queued behind."""
    for n in range(count):
        incident_id, _room = chat.declare(line=f"declare product-quality sev2 Fire number {n}")
        for who in ("bob", "carol"):
            chat.say(who, f"#{incident_id} ack")


def sends_per_row(engine) -> dict[int, dict]:
    with session(engine) as db:
        return {row.id: row for row in db.exec(select(Outbox).order_by(Outbox.id))}


async def test_two_workers_deliver_each_effect_once_in_order_per_incident_lane(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    busy_incidents(chat)
    calls: list[str] = []
    workers = [Deliverer(any_engine, chat.deps, Stamping(name, calls, pause=0.005), batch=3, worker=name) for name in ("w1", "w2")]
    await asyncio.gather(*(worker.deliver_pending() for worker in workers))
    rows = sends_per_row(any_engine)
    assert {row.state for row in rows.values()} == {"sent"}
    stamped = [row.result["seq"] for row in rows.values() if "seq" in row.result]
    assert sorted(stamped) == list(range(1, len(calls) + 1))  # one call per effect: none sent twice, none lost
    assert set(calls) == {"w1", "w2"}, "both workers should have shared the work"
    for incident_id, lane in {(row.incident_id, row.lane) for row in rows.values()}:
        order = [row.result["seq"] for row in rows.values() if (row.incident_id, row.lane) == (incident_id, lane) and "seq" in row.result]
        assert order == sorted(order), f"incident {incident_id} delivered out of order across workers in lane {lane}"
    for incident_id in {row.incident_id for row in rows.values()}:
        mine = [row for row in rows.values() if row.incident_id == incident_id and "seq" in row.result]
        assert min(mine, key=lambda row: row.result["seq"]).kind == OpenRoom.kind  # everything waits for the room


async def test_a_worker_whose_lease_expired_cannot_send(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    busy_incidents(chat, count=1)
    calls: list[str] = []
    gate = asyncio.Event()
    hanging = Stamping("stalled", calls, gate=gate)
    stalled = Deliverer(any_engine, chat.deps, hanging, worker="stalled")
    first = asyncio.create_task(stalled.deliver_pending())  # claims every row, then hangs on the first call
    await hanging.at_gate.wait()
    with session(any_engine) as db:
        assert {row.lease_owner for row in db.exec(select(Outbox))} == {"stalled"}
    clock.advance(LEASE + timedelta(seconds=1))  # it never renewed: its leases lapse
    healthy = Deliverer(any_engine, chat.deps, Stamping("healthy", calls), worker="healthy")
    assert await healthy.deliver_pending() > 0
    gate.set()
    await first
    # The call it was already making goes through (the documented at-least-once window); nothing after it does.
    assert calls.count("stalled") == 1
    rows = sends_per_row(any_engine)
    assert all(row.state == "sent" for row in rows.values())
    assert all(row.result.get("by") == "healthy" or row.result.get("coalesced") for row in list(rows.values())[1:])


async def test_a_row_of_an_incident_another_worker_holds_waits(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    busy_incidents(chat, count=1)
    calls: list[str] = []
    gate = asyncio.Event()
    holding = Stamping("first", calls, gate=gate)
    first = Deliverer(any_engine, chat.deps, holding, batch=2, worker="first")
    running = asyncio.create_task(first.deliver_pending())  # holds the incident's first two effects
    await holding.at_gate.wait()
    second = Deliverer(any_engine, chat.deps, Stamping("second", calls), worker="second")
    assert await second.deliver_pending() == 0 and calls == []  # the rest wait behind them
    gate.set()
    await running
    rows = sends_per_row(any_engine).values()
    for lane in {row.lane for row in rows}:  # each lane in order (lanes of one incident go side by side: bot/outbox/lanes.py)
        order = [row.result["seq"] for row in rows if row.lane == lane and "seq" in row.result]
        assert order == sorted(order), f"lane {lane} delivered out of order"


async def test_shutdown_hands_back_the_rows_a_worker_holds(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    busy_incidents(chat, count=1)
    calls: list[str] = []
    gate = asyncio.Event()
    leaving = Stamping("leaving", calls, gate=gate)
    worker = Deliverer(any_engine, chat.deps, leaving, worker="leaving")
    running = asyncio.create_task(worker.deliver_pending())
    await leaving.at_gate.wait()
    worker.stopping = True  # SIGTERM: the effect being sent finishes, the rest are handed back
    gate.set()
    await running
    rows = list(sends_per_row(any_engine).values())
    assert [row.state for row in rows[:1]] == ["sent"] and calls == ["leaving"]
    assert all(row.state == "pending" and row.lease_until is None and row.lease_owner is None for row in rows[1:])
    assert worker.release() == 0  # nothing left to hand back
    assert await Deliverer(any_engine, chat.deps, Stamping("next", calls), worker="next").deliver_pending() > 0
    assert {row.state for row in sends_per_row(any_engine).values()} == {"sent"}


class Down(FlakyChat):
    """A platform whose outage never ends: every call answers 503, with no Retry-After."""

    def __init__(self, clock):
        super().__init__()
        self.clock, self.tries = clock, []

    async def _record(self, kind: str, detail: object) -> dict:
        if kind == "open_room":
            self.tries.append(self.clock.now())
        raise RetryLater("HTTP 503")


def idle_passes(deliverer: Deliverer, clock, most: int) -> int:
    """How many of the next `most` passes, five seconds apart, would find nothing to claim: the worker's own query asked
    at later moments, read-only (what it may claim only grows as time passes: a retry comes due, a lease runs out)."""
    with session(deliverer.engine) as db:

        def finds(passes: int) -> bool:
            return db.exec(deliverer.leases._due(clock.now() + timedelta(seconds=5 * passes), [])).first() is not None

        low, high = 0, 1  # the first pass that finds work is in (low, high]
        while high < most and not finds(high):
            low, high = high, min(2 * high, most)
        if not finds(high):
            return most
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if finds(middle) else (middle, high)
        return high - 1


async def test_an_outage_is_retried_with_growing_waits_and_given_up_after_about_half_an_hour(chat, clock):
    chat.declare()
    down = Down(clock)
    deliverer = Deliverer(chat.engine, chat.deps, down)  # the defaults: 8 attempts over about 30 minutes
    step = 0
    while step < 12 * 60:  # an hour, five seconds at a time; a pass before any row is due again would find nothing
        await deliverer.deliver_pending()
        skipped = idle_passes(deliverer, clock, 12 * 60 - 1 - step)  # the clock moves past them as it would have
        clock.advance(timedelta(seconds=5 * (skipped + 1)))
        step += skipped + 1
    assert len(down.tries) == 8  # the room could not be opened: eight tries, then given up
    waits = [(b - a).total_seconds() for a, b in zip(down.tries, down.tries[1:], strict=False)]
    assert waits[0] <= 5 and waits[-1] > 100 * waits[0]  # a blip is retried at once, a long outage waited out
    assert 15 * 60 <= (down.tries[-1] - down.tries[0]).total_seconds() <= 60 * 60
    with session(chat.engine) as db:
        opening = db.exec(select(Outbox).where(Outbox.kind == OpenRoom.kind)).one()
    assert (opening.state, opening.attempts) == ("failed", 8)
