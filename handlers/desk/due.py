"""When each stakeholder list must be told and when it was (PRODUCT.md §10): read by the card, the review and the
deadline reminder alike, with no reminder machinery of its own."""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, func, select

from config.model import Config, StakeholderList
from storage.models import Incident, Outbox, StakeholderNotice


def is_required(audience: StakeholderList, incident: Incident) -> bool:
    """Whether the incident's playbook requires telling this list."""
    return incident.playbook in audience.playbooks


def deadline_of(audience: StakeholderList, incident: Incident) -> datetime | None:
    """When the list must be told: its deadline at the incident's severity, from the declaration (None: no deadline)."""
    span = audience.deadline.get(incident.severity)
    return incident.declared_at + span if span is not None else None


def told_at(session: Session, incident_id: int) -> dict[str, datetime]:
    """When each list was first told (its first e-mail queued, call recorded or drill rehearsal), by key; an e-mail the
    server refused told nobody."""
    return {key: at for key, at in session.exec(_told_query(), params={"incident": incident_id})}


@cache
def _told_query():
    """Built once: building it cost more than running it (every card of a playbook that requires a list asks it)."""
    refused = select(Outbox.id).where(Outbox.state == "failed")
    return (
        select(StakeholderNotice.list_key, func.min(StakeholderNotice.at))
        .where(StakeholderNotice.incident_id == bindparam("incident"))
        .where(or_(col(StakeholderNotice.outbox_id).is_(None), col(StakeholderNotice.outbox_id).not_in(refused)))
        .group_by(col(StakeholderNotice.list_key))
    )


def counts(session: Session, config: Config, incident: Incident, now: datetime) -> tuple[int, int, int]:
    """The card's figures: lists required, of them told, of them overdue."""
    required = [a for a in config.stakeholders.values() if is_required(a, incident)]
    if not required:  # most playbooks require no list: no query on every card
        return 0, 0, 0
    told = told_at(session, incident.id)
    late = [a for a in required if a.key not in told and (due := deadline_of(a, incident)) is not None and due < now]
    return len(required), sum(a.key in told for a in required), len(late)
