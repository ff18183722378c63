"""Scheduling and clearing nudges: rows in the database are the source of truth; each kind's record says the rest."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from handlers.nudges.record import Kind
from handlers.nudges.subjects import BadSubject, Nothing, Subject
from storage.models import Nudge

log = logging.getLogger(__name__)
WAITING = ("pending", "snoozed")
NOTHING = Nothing()  # the subject of a nudge about the incident as a whole


def schedule(
    session: Session,
    incident_id: int,
    kind: Kind,
    target: str,
    due_at: datetime,
    now: datetime,
    subject: Subject = NOTHING,
    reason: str = "",
    repeat: timedelta | None = None,
    once: bool = False,
) -> None:
    """Add a pending nudge; it repeats at its kind's pace unless told another (or told to speak once)."""
    stored = kind.store(subject)
    repeat = None if once else repeat or kind.repeat
    session.add(
        Nudge(
            incident_id=incident_id,
            kind=kind.name,
            subject=stored,
            target=target,
            due_at=due_at,
            first_due_at=due_at,
            reason=reason,
            created_at=now,
            repeat_seconds=int(repeat.total_seconds()) if repeat else None,
        )
    )


def reschedule(
    session: Session, incident_id: int, kind: Kind, target: str, due_at: datetime, now: datetime, subject: Subject, reason: str = ""
) -> None:
    """Promise a subject again by a new deadline (a new severity, a reopen, a refused e-mail), keeping the rung it reached:
    a reminder that has not spoken yet moves to the deadline; one that has spoken keeps its place on the ladder and its
    pace; one that resolving (or a refusal undoing what cleared it) stopped comes back there, due now at the latest."""
    mine = select(Nudge).where(Nudge.incident_id == incident_id, Nudge.kind == kind.name, Nudge.subject == kind.store(subject))
    rows = list(session.exec(mine.order_by(col(Nudge.id).desc())))
    waiting = [nudge for nudge in rows if nudge.state in WAITING]
    for nudge in waiting:
        if not _spoken(nudge):
            nudge.due_at, nudge.first_due_at = due_at, due_at
            session.add(nudge)
    last = rows[0] if rows else None
    if waiting:
        return
    if last is None or not _spoken(last):
        schedule(session, incident_id, kind, target, due_at, now, subject=subject, reason=reason)
        return
    # A reminder that stopped at the top of its ladder speaks again at its pace: a rung above may be held by now.
    pace = timedelta(seconds=last.repeat_seconds or 0) if last.state == "fired" else timedelta(0)
    session.add(
        Nudge(
            incident_id=incident_id,
            kind=kind.name,
            subject=last.subject,
            target=last.target,
            due_at=max(last.due_at + pace, now),
            first_due_at=last.first_due_at,
            reason=last.reason,
            created_at=now,
            attempts=last.attempts,
            repeat_seconds=last.repeat_seconds,
        )
    )


def _spoken(nudge: Nudge) -> bool:
    """Whether a reminder has fired, or stands on a higher rung of its ladder."""
    return nudge.attempts > 0 or nudge.reason.startswith("escalated")


def clear(
    session: Session, incident_id: int, kind: Kind, subject: Subject | None = None, where: Callable[[Subject], bool] | None = None
) -> int:
    """Clear the waiting nudges of a kind: all of them, one subject's, or those whose subject passes `where`."""
    query = select(Nudge).where(Nudge.incident_id == incident_id, Nudge.kind == kind.name, col(Nudge.state).in_(WAITING))
    if subject is not None:
        query = query.where(Nudge.subject == kind.store(subject))
    cleared = 0
    for nudge in session.exec(query):
        if where is not None and not ((parsed := _parsed(kind, nudge)) and where(parsed)):
            continue  # not one of those (a malformed subject is nobody's: firing drops it)
        nudge.state = "cleared"
        session.add(nudge)
        cleared += 1
    return cleared


def _parsed(kind: Kind, nudge: Nudge) -> Subject | None:
    try:
        return kind.subject.parse(nudge.subject)
    except BadSubject:
        log.warning("nudge %s of kind %s has a malformed subject %r", nudge.id, kind.name, nudge.subject[:40])
        return None


def clear_all(session: Session, incident_id: int, kinds: tuple[Kind, ...]) -> None:
    """Clear every waiting nudge of these kinds in an incident."""
    for kind in kinds:
        clear(session, incident_id, kind)
