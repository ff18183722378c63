"""The desk's rows on the incident card (PRODUCT.md §10): stakeholder lists due and told, press inquiries open and overdue,
claims open and unanswered."""

from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.desk import claimlog
from handlers.desk.due import counts as list_counts
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Claim, Incident, Inquiry


def desk_row(session: Session, config: Config, incident: Incident, now: datetime) -> Message:
    """`Stakeholders: 1/2 told (1 overdue) · Press inquiries: 2 open (1 overdue)`, or nothing while there is nothing."""
    required, told, late = list_counts(session, config, incident, now)
    overdue = case((col(Inquiry.due_at) < now, 1), else_=0)
    query = select(func.count(), func.sum(overdue)).where(Inquiry.incident_id == incident.id, Inquiry.state == "open")
    open_count, open_late = session.exec(query).one()
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


def claims_line(session: Session, config: Config, incident_id: int) -> Message:
    """The card's line about claims; nothing while none was logged."""
    if not session.exec(select(func.count()).where(Claim.incident_id == incident_id)).one():
        return Message()
    still, unanswered = claimlog.counts(session, config, incident_id)
    return fmt(_("Claims: {open} open, {unanswered} false and unanswered — `/crisis claims`"), open=still, unanswered=unanswered)
