"""The claims log's state, shared with the line, the signals and the card: where an answer went, reach, the deadline nudge."""

from datetime import datetime

from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import ClaimRef
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt
from storage.models import Claim, Incident, Publication, TimelineEvent

STATUSES = ("true", "false", "partly", "unknown")
STATUS_NAMES = {
    "unverified": N_("unverified"),
    "true": N_("true"),
    "false": N_("false"),
    "partly": N_("partly false"),
    "unknown": N_("unknown"),
}
ALARMING = ("false", "partly")  # a claim the line must answer when it spreads
PUBLISHED = ("sent", "simulated")  # a drill's publication is rehearsed, and answers the drill's claim
MOST_REACH = 10**12  # more people than there are: a typo


def find(session: Session, incident_id: int, number: int) -> Claim | None:
    """The claim C<number> of an incident."""
    return session.exec(select(Claim).where(Claim.incident_id == incident_id, Claim.number == number)).first()


def publications(session: Session, statement_id: int | None) -> list[Publication]:
    """Where a version went out (or was rehearsed), first first."""
    if statement_id is None:
        return []
    query = select(Publication).where(Publication.statement_id == statement_id, col(Publication.state).in_(PUBLISHED))
    return list(session.exec(query.order_by(col(Publication.id))))


def published_at(row: Publication) -> datetime:
    """When a publication went out (a rehearsed one: when it was recorded)."""
    return row.sent_at or row.at


def answer_published_at(session: Session, claim: Claim) -> datetime | None:
    """When the claim's answer was first out in public, or None while it is not."""
    rows = publications(session, claim.statement_id)
    return min((published_at(row) for row in rows), default=None)


def needs_answer(session: Session, config: Config, claim: Claim) -> bool:
    """False or partly false, wide, and with no published answer: the claim the deadline nudge is about."""
    wide = claim.status in ALARMING and claim.reach >= config.claims.reach_alert
    return wide and answer_published_at(session, claim) is None


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


def counts(session: Session, config: Config, incident_id: int) -> tuple[int, int]:
    """How many claims are open (not verified true, no published answer) and how many of those are false and wide."""
    claims = list(session.exec(select(Claim).where(Claim.incident_id == incident_id)))
    still = [c for c in claims if c.status != "true" and answer_published_at(session, c) is None]
    return len(still), sum(1 for c in still if needs_answer(session, config, c))


def card_line(session: Session, config: Config, incident_id: int) -> Message:
    """The card's line about claims; nothing while none was logged."""
    if not session.exec(select(func.count()).where(Claim.incident_id == incident_id)).one():
        return Message()
    still, unanswered = counts(session, config, incident_id)
    return fmt(_("Claims: {open} open, {unanswered} false and unanswered — `/crisis claims`"), open=still, unanswered=unanswered)
