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
