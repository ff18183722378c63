"""The desk's rows on the incident card (PRODUCT.md §10): stakeholder lists due and told, press inquiries open and overdue,
claims open and unanswered."""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, case
from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.desk import claimlog
from handlers.desk.due import counts as list_counts
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Claim, Incident, Inquiry


def desk_row(session: Session, config: Config, incident: Incident, now: datetime, inquiries: tuple[int, int] | None = None) -> Message:
    """`Stakeholders: 1/2 told (1 overdue) · Press inquiries: 2 open (1 overdue)`, or nothing while there is nothing;
    `inquiries` (open, overdue) when the caller read them already (the card reads them with its other counts)."""
    required, told, late = list_counts(session, config, incident, now)
    if inquiries is None:
        open_count, open_late = session.exec(select(*inquiry_counts()), params={"incident": incident.id, "now": now}).one()
    else:
        open_count, open_late = inquiries
    parts = []
    if required:
        parts.append(
            fmt(_("Stakeholders: {told}/{required} required lists told ({late} overdue)"), told=told, required=required, late=late)
        )
    if open_count:
        parts.append(fmt(_("Press inquiries: {open} open ({late} overdue)"), open=open_count, late=int(open_late or 0)))
    row = Message()
    for i, part in enumerate(parts):
        row = row + (fmt(" · ") if i else Message()) + part
    return row


def claims_line(session: Session, config: Config, incident_id: int, logged: int | None = None) -> Message:
    """The card's line about claims; nothing while none was logged (`logged`: how many, when the caller counted them)."""
    if logged is None:
        logged = session.exec(select(claims_logged()), params={"incident": incident_id}).one()
    if not logged:
        return Message()
    still, unanswered = claimlog.counts(session, config, incident_id)
    return fmt(_("Claims: {open} open, {unanswered} false and unanswered — `/crisis claims`"), open=still, unanswered=unanswered)


@cache
def inquiry_counts():
    """The open inquiries and, of them, the overdue, as two one-value queries on the parameters `incident` and `now`,
    built once: the card asks them inside its one query of counts."""
    mine = Inquiry.incident_id == bindparam("incident"), Inquiry.state == "open"
    overdue = func.sum(case((col(Inquiry.due_at) < bindparam("now"), 1), else_=0))
    return select(func.count()).where(*mine).scalar_subquery(), select(overdue).where(*mine).scalar_subquery()


@cache
def claims_logged():
    """How many claims an incident logged, as a one-value query on the parameter `incident`, built once (the card asks it
    inside its one query of counts)."""
    return select(func.count()).where(Claim.incident_id == bindparam("incident")).scalar_subquery()
