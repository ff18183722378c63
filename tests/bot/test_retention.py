"""Retention: the scheduler prunes processed-event keys and delivered outbox rows past the configured age, keeps what is
recent or still to be sent, and a command redelivered inside the window still changes nothing."""

from datetime import timedelta

from sqlmodel import func, select

from bot.app import OneVoice
from bot.outbox.scheduler import NudgeScheduler
from config.settings import Settings
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef
from storage.db import session
from storage.models import Outbox, ProcessedEvent
from tests.bot.test_delivery import FlakyChat
from tests.conftest import seeded
from tests.templates import copy_of_starter


def command(bot: OneVoice, who: str, line: str, event_id: str, room: str = "lobby"):
    reply = bot.handle(Command(UserRef("console", who), line, RoomRef("console", room), event_id))
    assert reply.ok, reply.message.plain()
    return reply


def counts(bot: OneVoice) -> tuple[int, int]:
    with session(bot.engine) as db:
        return db.exec(select(func.count()).select_from(ProcessedEvent)).one(), db.exec(select(func.count()).select_from(Outbox)).one()


class Console(FlakyChat):
    """The console platform as the fakes record it."""


async def test_old_rows_are_pruned_and_a_recent_command_redelivered_still_changes_nothing(tmp_path):
    clock = FakeClock()
    settings = Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'keep.db'}"), ONEVOICE_RETENTION_DAYS=30)
    bot = OneVoice(settings, config=copy_of_starter(), clock=clock)
    chat = Console()
    bot.attach(chat)
    command(bot, "alice", "declare product-quality sev2 Battery overheating", "old-declare")
    command(bot, "alice", "#1 task call the regulator", "old-task")
    await bot.deliver()
    old_events, old_rows = counts(bot)

    clock.advance(timedelta(days=29))
    command(bot, "alice", "#1 update Stores are pulling the batch", "old-update")  # queued, not delivered: never pruned
    clock.advance(timedelta(days=2))  # the first commands and what they said are 31 days old now, the update 2 days
    first = command(bot, "alice", "#1 task tell the stores", "recent-task")
    assert await NudgeScheduler(bot).prune() == old_events + old_rows  # everything delivered before the window

    assert counts(bot)[0] == 2  # the keys of the update and of the recent task
    with session(bot.engine) as db:
        assert {row.state for row in db.exec(select(Outbox))} == {"pending"}  # what is still to be sent stays
    again = command(bot, "alice", "#1 task tell the stores", "recent-task")  # the platform delivers it once more
    assert again.message.plain() == first.message.plain()  # the same answer as the first time
    tasks = command(bot, "alice", "#1 tasks all", "list-tasks").message.plain()
    assert tasks.count("tell the stores") == 1 and tasks.count("call the regulator") == 1  # the redelivery added nothing
    await bot.deliver()
    assert any("Stores are pulling the batch" in detail for kind, detail in chat.calls if kind == "post")
    bot.engine.dispose()
