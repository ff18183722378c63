"""Commands queued behind an unsure one (issue 14, PRODUCT.md §9): while the database is away the platform brings a
batch again and again, stopped at its first command; each command's UNSURE_FOR clock runs from when the bot first saw
it, so every person queued is told within UNSURE_FOR of typing, not after everyone before them was told in turn."""

import asyncio
from datetime import timedelta

import pytest

from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from bot.outbox.unsure import UNSURE_FOR
from bot.telegram import poller as telegram_poller
from bot.telegram.poller import TelegramPoller
from tests.bot import matrix_world
from tests.bot import test_telegram_commit_drop as commit_drop
from tests.bot.matrix_world import CRISIS, notices
from tests.bot.telegram_world import ALICE, BOB, CAROL, GROUP, TelegramWorld
from tests.bot.test_attack3_matrix import Outage, without_delivery
from tests.bot.test_matrix_unsure import UNSURE, declared, synced_on, tasks

fake = matrix_world.fake
world = matrix_world.world

# what each member typed while the database was away, and what each typed again once it was back
TYPED = {"@alice:test": "Call the supplier back", "@bob:test": "Book the courier", "@carol:test": "Draft the FAQ"}
AGAIN = {"@alice:test": "Phone the supplier", "@bob:test": "Order a courier", "@carol:test": "Write the FAQ"}


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """The sync loop's and the poller's waits while the database is away stay short, however many rounds."""
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)
    monkeypatch.setattr(telegram_poller, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(telegram_poller, "BACKOFF_MAX", 0.05)


@pytest.fixture
def telegram_world(database):
    """Telegram on that database (this file's `world` is Matrix's)."""
    world = TelegramWorld(database)
    yield world
    world.close()


async def test_matrix_every_command_queued_in_a_batch_is_told_once_unsure_for_after_it_was_typed(world, fake):
    dms = {person: f"!dm-{person[1:].split(':')[0]}:test" for person in TYPED}
    for person, dm in dms.items():
        await world.rooms.remember(person, dm)  # a direct room each opened with the bot earlier
    await declared(world, fake)
    before = len(notices(fake))  # Alice holds roles from the declaration and Carol from the team model; Bob is given one
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 assign scribe @bob:test")]})
    await world.until(lambda: len(notices(fake)) > before, what="Bob's role")
    said, in_room = len(notices(fake)), len(notices(fake, CRISIS))
    privately = {dm: len(notices(fake, dm)) for dm in dms.values()}
    outage = Outage(world.bot.engine)
    outage.down = True
    fake.push(join={CRISIS: [fake.message(person, f"!crisis #1 task {what}") for person, what in TYPED.items()]})
    await synced_on(fake)
    assert notices(fake)[said:] == []  # nobody told yet: a database restart fits within UNSURE_FOR
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))  # once: all three were typed that long ago
    await without_delivery(lambda: len(notices(fake)) >= said + len(TYPED))
    await synced_on(fake)  # and nothing more is said while the batch comes again
    for person, dm in dms.items():
        told = notices(fake, dm)[privately[dm] :]
        assert len(told) == 1 and UNSURE["en"] in told[0], (person, told)  # privately, once
    assert len(notices(fake)) == said + len(TYPED) and len(notices(fake, CRISIS)) == in_room  # nothing in the room
    token = fake.push(join={CRISIS: [fake.message(person, f"!crisis #1 task {what}") for person, what in AGAIN.items()]})
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batches decided")
    listed = await tasks(world, fake)
    assert all(what not in listed for what in TYPED.values()), listed  # told nobody could tell: never run later
    assert all(listed.count(what) == 1 for what in AGAIN.values()), listed  # what each typed again ran, once


TELEGRAM_TYPED = {ALICE: "Call the supplier back", BOB: "Book the courier", CAROL: "Draft the FAQ"}
TELEGRAM_AGAIN = {ALICE: "Phone the supplier", BOB: "Order a courier", CAROL: "Write the FAQ"}


def test_telegram_polling_every_command_queued_is_told_once_unsure_for_after_it_was_typed(telegram_world, monkeypatch):
    world, connection = telegram_world, commit_drop.Connection(monkeypatch)
    commit_drop.declared(world)
    world.command(ALICE, "/crisis #1 assign scribe @bob", chat=ALICE)  # Alice and Carol hold roles already
    real_handle, tries = world.bot.handle, []

    def handle(command, answer=None):
        tries.append(command.event_id)
        return real_handle(command, answer)

    world.bot.handle = handle
    in_group, privately = len(world.said_to(GROUP)), {person: len(world.said_to(person)) for person in TELEGRAM_TYPED}
    connection.down = 10**9  # the database away before they type
    updates = [world.fake.command_update(p, f"/crisis #1 task {what}", chat_id=GROUP) for p, what in TELEGRAM_TYPED.items()]
    for update in updates:
        world.fake.queue_update(update)
    poller = TelegramPoller(world.application, poll_seconds=0.3)

    async def until(condition) -> None:
        while not condition():
            await asyncio.sleep(0.01)

    async def polling() -> None:
        await poller.start()
        try:
            await until(lambda: len(tries) > 2 * telegram_poller.ATTEMPTS)  # the first fetched again and again
            assert world.fake.confirmed <= updates[0]["update_id"]
            assert [world.said_to(p)[privately[p] :] for p in TELEGRAM_TYPED] == [[], [], []]  # nobody told yet
            world.clock.advance(UNSURE_FOR + timedelta(seconds=1))  # once: all three were typed that long ago
            await asyncio.wait_for(until(lambda: world.fake.confirmed > updates[-1]["update_id"]), 10)
        finally:
            await poller.stop()

    world.run(polling())
    for person in TELEGRAM_TYPED:
        told = world.said_to(person)[privately[person] :]
        assert len(told) == 1 and UNSURE["en"] in told[0], (person, told)  # privately, once
    assert world.said_to(GROUP)[in_group:] == []  # nothing in the group
    connection.down = 0
    world.bot.handle = real_handle
    for person, what in TELEGRAM_AGAIN.items():
        world.command(person, f"/crisis #1 task {what}", chat=GROUP)
    commit_drop.after_any_lease(world)
    listed = commit_drop.tasks(world)
    assert all(what not in listed for what in TELEGRAM_TYPED.values()), listed  # told nobody could tell: never run later
    assert all(listed.count(what) == 1 for what in TELEGRAM_AGAIN.values()), listed  # what each typed again ran, once
