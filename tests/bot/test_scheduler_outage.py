"""The scheduler while the database is unreachable: it keeps its wake-ups and says so in one line, not a traceback a tick."""

import logging
from datetime import datetime

from sqlalchemy.exc import OperationalError

from bot.outbox.scheduler import NudgeScheduler
from tests.templates import copy_of_starter


class DatabaseDown:
    """A bot whose every database call fails as when PostgreSQL is stopped."""

    def __init__(self):
        self.config = copy_of_starter()
        self.ticks = 0
        self.stopping = False

    async def tick(self) -> int:
        self.ticks += 1
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    def next_due(self) -> datetime:
        raise OperationalError("SELECT min(due_at)", {}, ConnectionRefusedError("connection refused"))


async def test_during_an_outage_a_wake_up_neither_raises_nor_logs_a_traceback(caplog):
    scheduler = NudgeScheduler(DatabaseDown())
    with caplog.at_level(logging.WARNING):
        await scheduler.run()
    assert scheduler.bot.ticks == 1
    assert not [r for r in caplog.records if r.exc_info], "one line per failed tick is enough while the database is away"
