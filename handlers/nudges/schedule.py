"""Scheduling and clearing nudges: rows in the database are the source of truth."""

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Nudge

ROLE_ACK = "role_ack"
ROLE_UNFILLED = "role_unfilled"
TASK_OVERDUE = "task_overdue"
FIRST_STATEMENT = "first_statement"
UPDATE_DUE = "update_due"
REVIEW_DUE = "review_due"
APPROVAL_PENDING = "approval_pending"  # subject "v<n>:<role>"
ACTION_DUE = "action_due"  # subject "a<n>": a follow-up action, tracked after close too
DRILL_INJECT = "drill_inject"  # subject "i<n>": a drill's scripted event, posted in the room on the minute, never repeated

ACK_WITHIN = timedelta(minutes=10)
FILL_WITHIN = timedelta(minutes=10)
FIRST_STATEMENT_WARNING = timedelta(minutes=15)
# How often a nudge comes back while the thing is still not done, unless the scheduler says otherwise.
DEFAULT_REPEAT = {
    ROLE_ACK: ACK_WITHIN,
    ROLE_UNFILLED: FILL_WITHIN,
    TASK_OVERDUE: timedelta(minutes=30),
    REVIEW_DUE: timedelta(days=1),
    ACTION_DUE: timedelta(days=1),
}


def schedule(
    session: Session,
    incident_id: int,
    kind: str,
    target: str,
    due_at: datetime,
    now: datetime,
    subject: str = "",
    reason: str = "",
    repeat: timedelta | None = None,
) -> None:
    """Add a pending nudge; it repeats at its kind's default pace unless told otherwise."""
    repeat = repeat or DEFAULT_REPEAT.get(kind)
    session.add(
        Nudge(
            incident_id=incident_id,
            kind=kind,
            subject=subject,
            target=target,
            due_at=due_at,
            first_due_at=due_at,
            reason=reason,
            created_at=now,
            repeat_seconds=int(repeat.total_seconds()) if repeat else None,
        )
    )


def clear(session: Session, incident_id: int, kind: str, subject: str | None = None) -> int:
    """Clear the pending nudges of a kind (and subject): the thing was done."""
    query = select(Nudge).where(Nudge.incident_id == incident_id, Nudge.kind == kind, col(Nudge.state).in_(("pending", "snoozed")))
    if subject is not None:
        query = query.where(Nudge.subject == subject)
    cleared = 0
    for nudge in session.exec(query):
        nudge.state = "cleared"
        session.add(nudge)
        cleared += 1
    return cleared


def clear_prefix(session: Session, incident_id: int, kind: str, prefix: str) -> None:
    """Clear the pending nudges of a kind whose subject starts with a prefix (e.g. every role of one version)."""
    query = select(Nudge).where(
        Nudge.incident_id == incident_id,
        Nudge.kind == kind,
        col(Nudge.subject).startswith(prefix),
        col(Nudge.state).in_(("pending", "snoozed")),
    )
    for nudge in session.exec(query):
        nudge.state = "cleared"
        session.add(nudge)


def clear_all(session: Session, incident_id: int, kinds: tuple[str, ...]) -> None:
    """Clear every pending nudge of these kinds in an incident."""
    for kind in kinds:
        clear(session, incident_id, kind)
