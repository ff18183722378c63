"""The desk's row on the incident card (PRODUCT.md §10): stakeholder lists due and told, press inquiries open and overdue."""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, case
from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.desk.deadlines import counts as list_counts
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Incident, Inquiry


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


@cache
def inquiry_counts():
    """The open inquiries and, of them, the overdue, as two one-value queries on the parameters `incident` and `now`,
    built once: the card asks them inside its one query of counts."""
    mine = Inquiry.incident_id == bindparam("incident"), Inquiry.state == "open"
    overdue = func.sum(case((col(Inquiry.due_at) < bindparam("now"), 1), else_=0))
    return select(func.count()).where(*mine).scalar_subquery(), select(overdue).where(*mine).scalar_subquery()
