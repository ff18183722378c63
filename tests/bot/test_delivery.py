"""The outbox worker: every effect delivered once, in order per incident, despite faults."""

from datetime import timedelta

from sqlmodel import select

from bot.adapter import RetryLater, Undeliverable
from bot.delivery import Deliverer
from handlers.ports import EffectKind
from storage.db import session
from storage.models import Outbox, Room


class FlakyChat:
    """A platform that fails the first calls it is told to, then records what it got."""

    platform = "console"
    capabilities = frozenset()

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

    async def open_room(self, room, payload, card):
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
        refreshes = db.exec(select(Outbox).where(Outbox.kind == EffectKind.REFRESH_CARD)).all()
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
