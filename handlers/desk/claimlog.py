"""The claims log read (PRODUCT.md §10): statuses, where an answer went out, what is still open;
no reminder machinery, so the card and the reports read it without the deadline nudge."""

from datetime import datetime

from sqlmodel import Session, col, select

from config.model import Config
from handlers.text.i18n import N_
from storage.models import Claim, Publication

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


def counts(session: Session, config: Config, incident_id: int) -> tuple[int, int]:
    """How many claims are open (not verified true, no published answer) and how many of those are false and wide."""
    claims = list(session.exec(select(Claim).where(Claim.incident_id == incident_id)))
    still = [c for c in claims if c.status != "true" and answer_published_at(session, c) is None]
    return len(still), sum(1 for c in still if needs_answer(session, config, c))
