"""Rows for many reminders at once, inserted in bulk by the tests and benches that fire them by the hundred."""

from datetime import datetime

from sqlalchemy import Connection, insert

from storage.models import Incident


def incident_row(connection: Connection, title: str, now: datetime, **extra: object) -> int:
    """An open sev1 outage declared by alice at `now`; its id."""
    values = dict(
        title=title,
        slug=title.lower(),
        playbook="outage",
        severity="sev1",
        phase="responding",
        drill=False,
        declared_by="alice",
        declared_at=now,
        phase_changed_at=now,
    )
    return connection.execute(insert(Incident).returning(Incident.id), {**values, **extra}).scalar_one()


def task_reminder(incident_id: int, subject: str, due_at: datetime, since: datetime | None = None) -> dict:
    """A pending reminder to dave of checklist item `subject`, due at `due_at` (first due and created at `since`)."""
    since = since or due_at
    return dict(
        incident_id=incident_id,
        kind="task_overdue",
        subject=subject,
        target="person:dave",
        due_at=due_at,
        first_due_at=since,
        created_at=since,
        state="pending",
        attempts=0,
        reason="",
    )
