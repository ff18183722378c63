"""A claim leases at most its batch of due reminders, on SQLite and PostgreSQL alike, so replicas share a backlog."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from handlers.nudges import firing
from storage.db import session
from storage.models import Nudge
from tests.reminder_rows import incident_row, task_reminder


def _backlog(engine, count: int, now: datetime) -> None:
    """An incident with `count` reminders already due, inserted as a fresh table (no planner statistics yet)."""
    with engine.begin() as connection:
        incident = incident_row(connection, "Backlog", now)
        connection.execute(insert(Nudge), [task_reminder(incident, str(n), now - timedelta(seconds=n), since=now) for n in range(count)])


def test_a_claim_takes_its_batch_and_the_next_worker_the_next_one(any_engine):
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    _backlog(any_engine, 1000, now)
    with session(any_engine) as db:
        first = firing.claim(db, now, "w1", limit=50)
    with session(any_engine) as db:
        second = firing.claim(db, now, "w2", limit=50)
    assert len(first) == 50  # PostgreSQL once leased all 1,000 to w1 in one statement
    assert len(second) == 50 and not set(first) & set(second)
