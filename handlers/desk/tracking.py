"""The claims log's promises, shared with the line and the signals: an answer published, reach added, the deadline nudge."""

from datetime import datetime

from sqlmodel import Session, select

from config.model import Config
from handlers.desk.claimlog import (  # noqa: F401
    ALARMING,
    STATUS_NAMES,
    STATUSES,
    answer_published_at,
    counts,
    find,
    needs_answer,
    publications,
    published_at,
)
from handlers.desk.claimlog import MOST_REACH as MOST_REACH  # the signals cap a reach they add (re-exported: the surface)
from handlers.desk.claimlog import PUBLISHED as PUBLISHED  # publishing tells what counts as out (re-exported: the surface)
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import ClaimRef
from storage.models import Claim, Incident, TimelineEvent


def reconsider(session: Session, config: Config, incident: Incident, claim: Claim, now: datetime) -> None:
    """Promise the answer by the severity's deadline while the claim needs one; forget the promise once it does not."""
    subject = ClaimRef(claim.number)
    if not needs_answer(session, config, claim) or incident.phase in ("resolved", "closed"):
        nudges.clear(session, incident.id, kinds.CLAIM_UNANSWERED, subject)
        return
    due = max(claim.created_at + config.claims.within(incident.severity), now)
    target = "role:comms,role:commander"
    # A reminder already speaking keeps its pace and its place on the ladder; one not yet due follows the severity.
    nudges.reschedule(session, incident.id, kinds.CLAIM_UNANSWERED, target, due, now, subject=subject, reason=claim.text[:200])


def reconsider_all(session: Session, config: Config, incident: Incident, now: datetime) -> None:
    """Every claim's deadline again, at the incident's severity now (after `sev`, or on reopening)."""
    for claim in session.exec(select(Claim).where(Claim.incident_id == incident.id)):
        reconsider(session, config, incident, claim, now)


def answer_published(session: Session, statement_id: int, now: datetime) -> None:
    """A version went out: the claims it answers are answered in public now (on the timeline once), and their nudges stop."""
    for claim in session.exec(select(Claim).where(Claim.statement_id == statement_id)):
        nudges.clear(session, claim.incident_id, kinds.CLAIM_UNANSWERED, ClaimRef(claim.number))
        said = select(TimelineEvent.id).where(
            TimelineEvent.incident_id == claim.incident_id,
            TimelineEvent.kind == "claim_published",
            TimelineEvent.text == f"C{claim.number}",
        )
        if session.exec(said.limit(1)).first() is None:
            data = {"claim": claim.number, "statement": statement_id}
            session.add(
                TimelineEvent(
                    incident_id=claim.incident_id, at=now, actor="onevoice", kind="claim_published", text=f"C{claim.number}", data=data
                )
            )


def add_reach(session: Session, config: Config, incident: Incident, number: int, amount: int, now: datetime) -> Claim | None:
    """A signal about a claim: its reach grows (and may cross the alert); None when the incident has no such claim."""
    claim = find(session, incident.id, number)
    if claim is None:
        return None
    claim.reach = min(claim.reach + max(amount, 0), MOST_REACH)
    session.add(claim)
    data = {"claim": number, "added": amount, "reach": claim.reach}
    session.add(TimelineEvent(incident_id=incident.id, at=now, actor="onevoice", kind="claim_reach", text=f"C{number}", data=data))
    reconsider(session, config, incident, claim, now)
    return claim
