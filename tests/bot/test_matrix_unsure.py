"""Matrix, database away (issue 14, PRODUCT.md §9): a command that meets an unreachable database is neither answered nor
decided (the sync token stays, the event comes again) until the database can say what became of it; after UNSURE_FOR the
person is told privately that nobody could tell, never "nothing was changed", which an earlier run may have made false."""

from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from bot.outbox.unsure import UNSURE_FOR
from tests.bot import matrix_world
from tests.bot.matrix_world import CRISIS, MatrixWorld, matrix_team, notices
from tests.bot.test_attack3_matrix import Outage, without_delivery

fake = matrix_world.fake
world = matrix_world.world

ALICE = "@alice:test"
DM = "!dm-alice:test"
NOTHING_CHANGED = "nothing was changed"
UNSURE = {"en": "could not tell whether your command was recorded", "zh": "无法确认您的命令是否已记录"}


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    """The sync loop's waits while the database is away stay short, however many rounds."""
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    monkeypatch.setattr(matrix_sync, "BACKOFF_MAX", 0.2)


async def declared(world: MatrixWorld, fake) -> None:
    """Incident #1 declared, its batch decided and what it queued delivered (in whichever language the team speaks)."""
    token = fake.push(join={CRISIS: [fake.message(ALICE, "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token and notices(fake, CRISIS), what="the declaration")
    await world.bot.deliver()


async def synced_on(fake, rounds: int = 3) -> None:
    """Wait while the sync loop fetches its batch again a few times (the database away: nothing to deliver)."""
    asked = len(fake.syncs)
    await without_delivery(lambda: len(fake.syncs) >= asked + rounds)


def restarted(world: MatrixWorld, fake) -> MatrixWorld:
    """A new process of the bot on the same database and homeserver (not started yet)."""
    return MatrixWorld(fake, world.bot.engine.url.render_as_string(hide_password=False))


@asynccontextmanager
async def running(again: MatrixWorld):
    """The restarted process's sync loop, stopped and its engine closed after."""
    await again.start()
    try:
        yield again
    finally:
        await again.stop()
        again.bot.engine.dispose()


async def task_typed_while_away(world: MatrixWorld, fake, room: str = CRISIS) -> tuple[int, Outage, str]:
    """The database goes away, then Alice adds a task in `room` and its batch comes again a few times: the notices said
    before, the outage, and the batch's token."""
    said = len(notices(fake))
    outage = Outage(world.bot.engine)
    outage.down = True
    token = fake.push(join={room: [fake.message(ALICE, "!crisis #1 task Call the supplier back")]})
    await synced_on(fake)
    return said, outage, token


async def tasks(world: MatrixWorld, fake) -> str:
    """The incident's task list as a member reads it (the database back)."""
    before = len(notices(fake))
    fake.push(join={CRISIS: [fake.message(ALICE, "!crisis #1 tasks all")]})
    await world.until(lambda: len(notices(fake)) > before, what="the tasks listed")
    return notices(fake)[-1]


async def test_after_a_restart_a_command_that_committed_is_not_told_nothing_was_changed(world, fake, monkeypatch):
    def token_lost(*_args):  # the process dies between the command's commit and its batch's token
        raise OperationalError("INSERT", {}, ConnectionError("server closed the connection unexpectedly"))

    real_store = matrix_sync.store_token
    monkeypatch.setattr(matrix_sync, "store_token", token_lost)
    stale = load_token(world.bot.engine, fake.user_id)
    token = fake.push(join={CRISIS: [fake.message(ALICE, "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared #1") for a in notices(fake)), what="the declaration")
    await world.stop()
    monkeypatch.setattr(matrix_sync, "store_token", real_store)
    assert load_token(world.bot.engine, fake.user_id) == stale  # the restart resumes before the declaration
    again = restarted(world, fake)
    outage, real_load = Outage(again.bot.engine), matrix_sync.load_token

    def load_then_away(engine, account):  # the database goes away as soon as the restarted process has read its token
        found = real_load(engine, account)
        outage.down = True
        return found

    monkeypatch.setattr(matrix_sync, "load_token", load_then_away)
    async with running(again):
        said = len(notices(fake))
        await synced_on(fake)  # the declaration's batch came again, and again: the database cannot say it committed
        assert notices(fake)[said:] == []  # today: "nothing was changed", which is false
        outage.down = False
        await again.until(lambda: load_token(again.bot.engine, fake.user_id) == token, what="the batch decided")
        await again.bot.deliver()
        assert notices(fake)[said:] == []  # a plain redelivery: answered when it first committed
        assert sum(a.startswith("Declared") for a in notices(fake)) == 1 and not any(NOTHING_CHANGED in a for a in notices(fake))
        assert len([r for r in fake.created if r.get("name", "").startswith("crisis-")]) == 1  # run once


async def test_a_command_typed_while_the_database_is_away_runs_once_when_it_is_back(world, fake):
    await declared(world, fake)
    said, outage, token = await task_typed_while_away(world, fake)
    assert notices(fake)[said:] == []  # no guess while nobody can tell
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    await world.until(lambda: any(a.startswith("Added item") for a in notices(fake)[said:]), what="the task's answer")
    await world.bot.deliver()
    new = notices(fake)[said:]
    assert len(new) == 1 and new[0].startswith("Added item"), new
    assert (await tasks(world, fake)).count("Call the supplier back") == 1


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_command_the_database_stays_away_from_is_told_privately_after_unsure_for(fake, database, language):
    config = matrix_team()
    config.language = language
    world = await MatrixWorld(fake, database, config=config).start()
    try:
        await world.rooms.remember(ALICE, DM)  # a direct room she opened with the bot earlier
        await declared(world, fake)
        said = len(notices(fake))
        outage = Outage(world.bot.engine)
        outage.down = True
        fake.push(join={CRISIS: [fake.message(ALICE, "!crisis #1 task Call the supplier back")]})
        later = fake.message(ALICE, "!crisis #1 task Book the courier")  # its own batch, seen later: not lost, run once
        fake.push(join={CRISIS: [later]})  # (one typed with the first is told with it: tests/bot/test_unsure_queue.py)
        await synced_on(fake)
        world.clock.advance(UNSURE_FOR - timedelta(seconds=1))
        await synced_on(fake)
        assert notices(fake)[said:] == []  # not yet: a database restart fits within UNSURE_FOR
        world.clock.advance(timedelta(seconds=2))
        await without_delivery(lambda: notices(fake)[said:])
        [told] = notices(fake)[said:]
        assert UNSURE[language] in told and "!crisis status" in told and "/crisis" not in told, told
        assert notices(fake, DM)[-1:] == [told]  # privately, and nothing more (no "nothing was changed")
        outage.down = False
        await world.until(lambda: len(notices(fake)) > said + 1, what="the later command's answer")
        listed = await tasks(world, fake)
        assert "Call the supplier back" not in listed  # told it is unknown: not run behind the person's back later
        assert listed.count("Book the courier") == 1
    finally:
        await world.stop()
        world.bot.engine.dispose()


async def test_a_command_in_an_incident_room_the_database_cannot_confirm_is_told_after_unsure_for_and_runs_never(world, fake):
    await world.rooms.remember(ALICE, DM)
    await declared(world, fake)
    incident = next(r["room_id"] for r in fake.created if r.get("name", "").startswith("crisis-"))
    # a restarted process knows no incident room yet: only the database can say this is one
    said, outage, token = await task_typed_while_away(world, fake, incident)
    assert notices(fake)[said:] == []
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
    await without_delivery(lambda: notices(fake)[said:])
    assert [UNSURE["en"] in a for a in notices(fake, DM)[-1:]] == [True] and len(notices(fake)) == said + 1
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    assert "Call the supplier back" not in await tasks(world, fake)


async def test_a_command_in_an_incident_room_with_no_direct_room_known_is_told_there_once_and_never_runs(world, fake):
    await declared(world, fake)
    incident = next(r["room_id"] for r in fake.created if r.get("name", "").startswith("crisis-"))
    world.rooms._direct.clear()  # as in a process restarted meanwhile: it reads the direct rooms from the database, away
    said, outage, token = await task_typed_while_away(world, fake, incident)  # only the database can say it is one
    assert notices(fake)[said:] == []
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
    await without_delivery(lambda: notices(fake)[said:])
    assert [UNSURE["en"] in a for a in notices(fake)[said:]] == [True]  # told once,
    assert notices(fake, incident)[-1:] == notices(fake)[-1:]  # where she typed it: nowhere else it could be said
    outage.down = False
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    assert "Call the supplier back" not in await tasks(world, fake)  # told nobody could tell: never run later
