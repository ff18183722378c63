"""When each stakeholder list must be told (PRODUCT.md §10), and the reminder that holds the team to it."""

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, or_
from sqlmodel import Session, col, func, select

from config.model import Config, StakeholderList
from handlers.core.context import Context
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Audience
from storage.models import Incident, Outbox, StakeholderNotice

WHO_IS_TOLD = "role:liaison,role:commander"  # the liaison and the commander hear the deadline, then the executive sponsor


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


def promise(ctx: Context) -> None:
    """(Re)schedule the deadline reminder of each required list not told yet, at the incident's current severity."""
    incident = ctx.incident
    nudges.clear(ctx.session, incident.id, kinds.STAKEHOLDER_DEADLINE)
    told = told_at(ctx.session, incident.id) if ctx.config.stakeholders else {}
    for key, audience in ctx.config.stakeholders.items():
        due = deadline_of(audience, incident)
        if not is_required(audience, incident) or due is None or key in told:
            continue
        subject = Audience(key)
        nudges.schedule(ctx.session, incident.id, kinds.STAKEHOLDER_DEADLINE, WHO_IS_TOLD, max(due, ctx.now), ctx.now, subject=subject)


def counts(session: Session, config: Config, incident: Incident, now: datetime) -> tuple[int, int, int]:
    """The card's figures: lists required, of them told, of them overdue."""
    required = [a for a in config.stakeholders.values() if is_required(a, incident)]
    if not required:  # most playbooks require no list: no query on every card
        return 0, 0, 0
    told = told_at(session, incident.id)
    late = [a for a in required if a.key not in told and (due := deadline_of(a, incident)) is not None and due < now]
    return len(required), sum(a.key in told for a in required), len(late)
