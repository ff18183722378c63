"""The running bot fires a batch of reminders per transaction: each exactly once across replicas, and one that fails
waits alone while the rest of its batch goes out."""

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlmodel import select

from bot.app import FIRE_BATCH, OneVoice
from config.settings import Settings
from handlers.core.ports import FakeClock
from handlers.nudges import firing
from handlers.text.markup import Message
from storage.db import session
from storage.models import Nudge, Outbox
from tests.conftest import migrated_sqlite, reused_schema
from tests.reminder_rows import incident_row, task_reminder

DUE = 2 * FIRE_BATCH + 20  # more than one batch for each of two replicas
ITEM = re.compile(r"checklist item (\d+) ")


class Console:
    """A console that only takes what it is given."""

    platform = "console"

    async def dm(self, to, message):
        return {"message_id": "1"}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        migrated_sqlite(tmp_path / "batch.db").dispose()
        yield f"sqlite:///{tmp_path / 'batch.db'}"
        return
    with reused_schema() as (_engine, schema_url):
        yield schema_url


def _replica(url: str, clock: FakeClock) -> OneVoice:
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=url), clock=clock)
    bot.attach(Console())
    return bot


def _due(bot: OneVoice, now: datetime) -> None:
    """An incident with DUE overdue checklist items, each reminding dave."""
    with bot.engine.begin() as connection:
        incident = incident_row(connection, "Batch", now)
        reminders = [task_reminder(incident, str(n), now - timedelta(seconds=n), since=now) for n in range(1, DUE + 1)]
        connection.execute(insert(Nudge), reminders)


def _reminded(bot: OneVoice) -> list[int]:
    """The checklist item each queued DM reminds of, in the order queued."""
    with session(bot.engine) as db:
        rows = db.exec(select(Outbox).where(Outbox.kind == "dm").order_by(Outbox.id)).all()
    return [int(ITEM.search(Message.from_json(row.payload["message"]).plain()).group(1)) for row in rows]


def test_two_replicas_firing_at_once_remind_of_each_item_once(url):
    clock = FakeClock()
    first, second = _replica(url, clock), _replica(url, clock)
    _due(first, clock.now())
    with ThreadPoolExecutor(2) as pool:
        spoken = list(pool.map(OneVoice.fire_due, (first, second)))
    assert sorted(_reminded(first)) == list(range(1, DUE + 1))
    assert sum(spoken) == DUE
    with session(first.engine) as db:
        assert {(n.state, n.attempts, n.lease_owner) for n in db.exec(select(Nudge))} == {("fired", 1, None)}
    for bot in (first, second):
        bot.engine.dispose()


def test_a_reminder_that_fails_waits_alone_and_goes_out_once_after_its_lease(url, monkeypatch, caplog):
    clock = FakeClock()
    bot = _replica(url, clock)
    _due(bot, clock.now())
    render = firing.reminders.render

    def broken(session, config, incident, nudge, *rest):
        if nudge.subject == "7":
            raise ValueError("no words for item 7")
        return render(session, config, incident, nudge, *rest)

    monkeypatch.setattr(firing.reminders, "render", broken)
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        assert bot.fire_due() == DUE - 1
    assert "no words for item 7" in caplog.text
    assert sorted(_reminded(bot)) == [n for n in range(1, DUE + 1) if n != 7]
    monkeypatch.setattr(firing.reminders, "render", render)
    assert bot.fire_due() == 0  # leased to this worker until its lease ends: not tried again at once
    clock.advance(bot.lease + timedelta(seconds=1))
    assert bot.fire_due() == 1
    assert _reminded(bot)[-1] == 7 and sorted(_reminded(bot)) == list(range(1, DUE + 1))
    bot.engine.dispose()


def test_a_replica_stopping_mid_batch_leaves_the_rest_due_for_another(url, monkeypatch):
    clock = FakeClock()
    stopping, other = _replica(url, clock), _replica(url, clock)
    _due(stopping, clock.now())
    render, said = firing.reminders.render, []

    def stop_after_three(*args):
        said.append(1)
        if len(said) == 3:
            stopping.stop_taking_work()  # SIGTERM while the batch is being fired
        return render(*args)

    monkeypatch.setattr(firing.reminders, "render", stop_after_three)
    assert stopping.fire_due() == 3
    monkeypatch.setattr(firing.reminders, "render", render)
    assert other.fire_due() == DUE - 3  # at once: nothing is leased to the stopped replica, no lease to wait out
    assert sorted(_reminded(other)) == list(range(1, DUE + 1))
    for bot in (stopping, other):
        bot.engine.dispose()


def test_reminders_whose_dms_the_database_refuses_each_wait_their_lease_and_none_is_lost(url, monkeypatch):
    clock = FakeClock()
    bot = _replica(url, clock)
    _due(bot, clock.now())
    write_dms = firing.write_dms

    def refused(session, dms):
        if dms:
            raise ValueError("the outbox refuses the row")
        write_dms(session, dms)

    monkeypatch.setattr(firing, "write_dms", refused)
    assert bot.fire_due() == 0  # each reminder failed alone and is leased: no batch is tried again at once
    with session(bot.engine) as db:
        assert firing.next_due(db) > clock.now()
    monkeypatch.setattr(firing, "write_dms", write_dms)
    clock.advance(bot.lease + timedelta(seconds=1))
    assert bot.fire_due() == DUE
    assert sorted(_reminded(bot)) == list(range(1, DUE + 1))
    bot.engine.dispose()


def test_a_batch_whose_commit_fails_twice_waits_its_lease_instead_of_being_retried_at_once(url, monkeypatch):
    clock = FakeClock()
    bot = _replica(url, clock)
    _due(bot, clock.now())
    commit, failing = Session.commit, [2]

    def fails_twice(self):
        if failing[0]:
            failing[0] -= 1
            raise ValueError("the commit fails")
        commit(self)

    monkeypatch.setattr(Session, "commit", fails_twice)
    with pytest.raises(ValueError):
        bot.fire_batch()  # the batch, then the batch one savepoint a reminder: both fail at their commit
    monkeypatch.setattr(Session, "commit", commit)
    assert _reminded(bot) == []
    assert bot.fire_due() == DUE - FIRE_BATCH  # the failed batch is leased; the rest go out
    clock.advance(bot.lease + timedelta(seconds=1))
    assert bot.fire_due() == FIRE_BATCH
    assert sorted(_reminded(bot)) == list(range(1, DUE + 1))
    bot.engine.dispose()
