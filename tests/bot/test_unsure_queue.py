"""Commands queued behind an unsure one (issue 14, PRODUCT.md §9): while the database is away the platform brings a
batch again and again, stopped at its first command; each command's UNSURE_FOR clock runs from when the bot first saw
it, so every person queued is told within UNSURE_FOR of typing, not after everyone before them was told in turn."""

from datetime import timedelta

import pytest

from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from bot.outbox.unsure import UNSURE_FOR
from tests.bot import matrix_world
from tests.bot.matrix_world import CRISIS, notices
from tests.bot.test_attack3_matrix import Outage, without_delivery
from tests.bot.test_matrix_unsure import UNSURE, declared, synced_on, tasks

fake = matrix_world.fake
world = matrix_world.world

TYPED = {"@alice:test": "Call the supplier back", "@bob:test": "Book the courier", "@carol:test": "Draft the FAQ"}


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """The sync loop's waits while the database is away stay short, however many rounds."""
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)


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
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 task Call the press office")]})
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batches decided")
    listed = await tasks(world, fake)
    assert all(what not in listed for what in TYPED.values()), listed  # told nobody could tell: never run later
    assert listed.count("Call the press office") == 1  # what was typed once it was back ran
