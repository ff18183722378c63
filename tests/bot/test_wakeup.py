"""When a replica wakes next: a nudge or an effect claimed by another (perhaps dead) replica is due when its lease ends."""

from datetime import UTC, datetime, timedelta

from bot.app import OneVoice
from config.settings import Settings
from handlers.core.ports import FakeClock
from storage.db import session
from storage.models import Nudge, Outbox
from tests.conftest import seeded
from tests.templates import copy_of_starter

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def bot_at(tmp_path) -> OneVoice:
    return OneVoice(
        Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'wake.db'}"), ONEVOICE_LEASE_SECONDS=5),
        config=copy_of_starter(),
        clock=FakeClock(NOW),
    )


def test_a_replica_waits_for_another_ones_lease_instead_of_waking_at_once(tmp_path):
    bot = bot_at(tmp_path)
    lease_end = NOW + timedelta(seconds=5)
    with session(bot.engine) as db:
        db.add(Outbox(platform="slack", kind="post", created_at=NOW, next_attempt_at=NOW - timedelta(minutes=1), lease_until=lease_end))
        db.add(
            Nudge(
                kind="task_overdue",
                target="person:dave",
                created_at=NOW,
                first_due_at=NOW,
                due_at=NOW - timedelta(minutes=2),
                lease_until=lease_end + timedelta(seconds=1),
            )
        )
        db.commit()
    assert bot.next_due() == lease_end  # not "now, again and again" while the other worker holds both


def test_a_free_overdue_row_wakes_it_at_its_due_time(tmp_path):
    bot = bot_at(tmp_path)
    with session(bot.engine) as db:
        db.add(Nudge(kind="task_overdue", target="person:dave", created_at=NOW, first_due_at=NOW, due_at=NOW - timedelta(minutes=2)))
        db.add(Outbox(platform="slack", kind="post", created_at=NOW, next_attempt_at=NOW + timedelta(minutes=1), lease_until=NOW))
        db.commit()
    assert bot.next_due() == NOW - timedelta(minutes=2)
    assert bot.lease == timedelta(seconds=5)  # ONEVOICE_LEASE_SECONDS
