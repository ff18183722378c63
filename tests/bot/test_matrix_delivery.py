"""Matrix out, against the fake homeserver: a declaration opens a room in the space with the card pinned and the
responders invited; the card is edited in place; rate limits are paced or handed to the outbox with their wait, and a
retry repeats nothing; refusals are given up, server errors retried; direct rooms are made once and kept."""

import inspect
from datetime import timedelta

import pytest

from bot.matrix import client as matrix_client
from bot.matrix.delivery import MatrixAdapter
from bot.matrix.rooms import Rooms
from bot.outbox.adapter import Adapter, RetryLater, Undeliverable, resuming
from handlers.text.markup import text
from tests.bot import matrix_world
from tests.bot.matrix_homeserver import FakeHomeserver
from tests.bot.matrix_world import CRISIS, SPACE, MatrixWorld

fake = matrix_world.fake

LIMITED = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests"}


@pytest.fixture
async def world(fake, tmp_path):
    world = await MatrixWorld(fake, f"sqlite:///{tmp_path / 'matrix.db'}").start()
    yield world
    await world.stop()
    world.bot.engine.dispose()


def incident_rooms(fake: FakeHomeserver) -> list[dict]:
    return [room for room in fake.created if room.get("name", "").startswith("crisis-")]


async def declared(world: MatrixWorld, fake: FakeHomeserver) -> str:
    """Alice declares in the crisis room; the incident room once its card is pinned and its responders invited."""
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare product-quality sev2 Battery overheating")]})
    await world.until(lambda: incident_rooms(fake) and fake.invited, what="the room opened and the responders invited")
    return incident_rooms(fake)[0]["room_id"]


def test_the_adapter_has_a_method_for_every_effect():
    wanted = {name for name, _ in inspect.getmembers(Adapter, inspect.iscoroutinefunction)}
    assert wanted <= {name for name, _ in inspect.getmembers(MatrixAdapter, inspect.iscoroutinefunction)}


async def test_a_declaration_opens_a_room_in_the_space_pins_the_card_and_invites_the_responders(world, fake):
    room = await declared(world, fake)
    [made] = incident_rooms(fake)
    assert made["name"] == "crisis-20260302-battery-overheating" and made["topic"] == "#1 Battery overheating"
    assert fake.state[(room, "m.space.parent", SPACE)]["canonical"] is True
    assert fake.state[(SPACE, "m.space.child", room)]["via"] == ["test"]
    [card] = [s for s in fake.sent if s.room == room and "Battery overheating" in s.content["body"]][:1]
    assert fake.state[(room, "m.room.pinned_events", "")] == {"pinned": [card.event_id]}
    assert card.content["format"] == "org.matrix.custom.html"
    assert {user for where, user in fake.invited if where == room} == {f"@{k}:test" for k in ("alice", "bob", "carol", "dave", "erin")}
    assert "m.room.encryption" not in {event["type"] for event in made.get("initial_state", [])}


async def test_the_card_is_edited_in_place_and_stays_the_one_pinned(world, fake):
    room = await declared(world, fake)
    [card_id] = fake.state[(room, "m.room.pinned_events", "")]["pinned"]
    fake.push(join={room: [fake.message("@bob:test", "!crisis #1 ack")]})
    edits = lambda: [s.content for s in fake.sent if s.content.get("m.relates_to", {}).get("event_id") == card_id]  # noqa: E731
    await world.until(lambda: any("Bob Li ✓" in e["m.new_content"]["body"] for e in edits()), what="the card edited")
    edit = edits()[-1]
    assert edit["m.relates_to"]["rel_type"] == "m.replace" and edit["body"].startswith("* ")
    assert fake.state[(room, "m.room.pinned_events", "")] == {"pinned": [card_id]}


async def test_a_rate_limit_on_the_card_sends_the_room_back_to_the_outbox_and_the_retry_makes_no_second_room(world, fake):
    refused = []

    def gate(room: str, _content: dict):
        if room in {r["room_id"] for r in incident_rooms(fake)} and not refused:
            refused.append(room)
            return 429, {**LIMITED, "retry_after_ms": 120_000}  # longer than is waited in the call
        return None

    fake.send_gate = gate
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: refused, what="the room made and its card refused")
    [room] = refused
    await world.bot.deliver()
    assert [s for s in fake.sent if s.room == room] == []  # the room's effects wait for its card
    world.clock.advance(timedelta(seconds=121))  # the wait the server asked for, on the outbox's clock
    matrix_client._NOT_BEFORE.pop(world.client, None)  # and on the client's, which holds every call back until then
    await world.until(lambda: (room, "m.room.pinned_events", "") in fake.state, what="the card pinned on the retry")
    assert len(incident_rooms(fake)) == 1
    cards = [s for s in fake.sent if s.room == room and "Checkout slow" in s.content["body"]]
    assert len(cards) == 1 and fake.state[(room, "m.room.pinned_events", "")] == {"pinned": [cards[0].event_id]}


async def test_a_short_rate_limit_is_waited_in_the_call_and_sent_once(fake, tmp_path):
    world = MatrixWorld(fake, f"sqlite:///{tmp_path / 'short.db'}")
    try:
        fake.refuse["send"] = [(429, {**LIMITED, "retry_after_ms": 50}), (429, {**LIMITED, "retry_after_ms": 50})]
        sent = await world.adapter.post(None, CRISIS, text("Status: monitoring 电池 😀"))
        assert fake.said(CRISIS) == [{**fake.said(CRISIS)[0], "body": "Status: monitoring 电池 😀"}]
        assert sent["message_id"] == fake.sent[0].event_id
    finally:
        await world.client.close()
        world.bot.engine.dispose()


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (403, {"errcode": "M_FORBIDDEN", "error": "You are not in this room"}, Undeliverable),
        (502, {"errcode": "M_UNKNOWN", "error": "Bad gateway"}, RetryLater),
        (429, {**LIMITED, "retry_after_ms": 45_000}, RetryLater),
    ],
)
async def test_a_refusal_is_given_up_and_trouble_is_tried_again(fake, tmp_path, status, body, outcome):
    world = MatrixWorld(fake, f"sqlite:///{tmp_path / 'errors.db'}")
    try:
        fake.refuse["send"] = [(status, body)]
        with pytest.raises(outcome) as raised:
            await world.adapter.publish(CRISIS, "The approved text")
        assert type(raised.value) is outcome
        if status == 429:
            assert raised.value.after == 45.0  # the outbox waits what the server asked
        assert fake.sent == []
    finally:
        await world.client.close()
        world.bot.engine.dispose()


async def test_a_persons_direct_room_is_made_once_and_kept_across_restarts(fake, tmp_path):
    world = MatrixWorld(fake, f"sqlite:///{tmp_path / 'direct.db'}")
    try:
        await world.adapter.dm("@bob:test", text("You are Legal counsel"))
        await world.adapter.dm("@bob:test", text("⏰ v1 waits for you"))
        later = Rooms(world.client, world.bot.engine, fake.user_id)  # another process on the same database
        await later.load()
        await MatrixAdapter(world.client, world.config, later).dm("@bob:test", text("⏰ still waiting"))
        [made] = fake.created
        assert made["is_direct"] is True and made["invite"] == ["@bob:test"]
        assert [c["body"] for c in fake.said(made["room_id"])] == ["You are Legal counsel", "⏰ v1 waits for you", "⏰ still waiting"]
    finally:
        await world.client.close()
        world.bot.engine.dispose()


async def test_a_send_whose_answer_was_lost_is_retried_with_its_transaction_and_posted_once(fake, tmp_path):
    world = MatrixWorld(fake, f"sqlite:///{tmp_path / 'lost.db'}")
    try:
        fake.lose_answers = 1
        with pytest.raises(RetryLater) as lost:
            await world.adapter.post(None, CRISIS, text("⏰ v1 waits for Legal counsel"))
        with resuming(lost.value.progress):  # the outbox's next attempt, with what the first one kept
            sent = await world.adapter.post(None, CRISIS, text("⏰ v1 waits for Legal counsel"))
        assert [c["body"] for c in fake.said(CRISIS)] == ["⏰ v1 waits for Legal counsel"]
        assert sent["message_id"] == fake.sent[0].event_id
        await world.adapter.post(None, CRISIS, text("⏰ v1 waits for Legal counsel"))  # a new effect: a new transaction
        assert len(fake.said(CRISIS)) == 2
    finally:
        await world.client.close()
        world.bot.engine.dispose()


async def test_a_drills_room_is_marked_as_a_drill(world, fake):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis drill emergency")]})
    await world.until(lambda: fake.created, what="the drill's room")
    [made] = [room for room in fake.created if not room.get("is_direct")]
    assert made["name"].startswith("drill-2026") and (SPACE, "m.space.child", made["room_id"]) in fake.state
