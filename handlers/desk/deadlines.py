"""When each stakeholder list must be told (PRODUCT.md §10), and the reminder that holds the team to it."""

from datetime import datetime

from sqlalchemy import or_
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
    refused = select(Outbox.id).where(Outbox.state == "failed")
    query = (
        select(StakeholderNotice.list_key, func.min(StakeholderNotice.at))
        .where(StakeholderNotice.incident_id == incident_id)
        .where(or_(col(StakeholderNotice.outbox_id).is_(None), col(StakeholderNotice.outbox_id).not_in(refused)))
        .group_by(col(StakeholderNotice.list_key))
    )
    return {key: at for key, at in session.exec(query)}


def promise(ctx: Context) -> None:
    """(Re)schedule the deadline reminder of each required list not told yet, at the incident's current severity."""
    keep(ctx.session, ctx.config, ctx.incident, ctx.now)


def keep(session: Session, config: Config, incident: Incident, now: datetime, only: str | None = None) -> None:
    """Hold each required list not told yet (or only one) to its deadline at the severity now; a reminder already speaking
    keeps its rung and pace. A list told, no longer required or without a deadline is reminded no more."""
    told = told_at(session, incident.id) if config.stakeholders else {}
    for key, audience in config.stakeholders.items():
        if only is not None and key != only:
            continue
        due, subject = deadline_of(audience, incident), Audience(key)
        if not is_required(audience, incident) or due is None or key in told:
            nudges.clear(session, incident.id, kinds.STAKEHOLDER_DEADLINE, subject)
            continue
        nudges.reschedule(session, incident.id, kinds.STAKEHOLDER_DEADLINE, WHO_IS_TOLD, max(due, now), now, subject=subject)


def mail_refused(session: Session, config: Config, outbox_id: int, now: datetime) -> None:
    """A stakeholder e-mail was given up: a list it alone had told is held to its deadline again (PRODUCT.md §10)."""
    notice = session.exec(select(StakeholderNotice).where(StakeholderNotice.outbox_id == outbox_id)).first()
    incident = session.get(Incident, notice.incident_id) if notice is not None else None
    if notice is not None and incident is not None and incident.phase not in ("resolved", "closed"):
        keep(session, config, incident, now, only=notice.list_key)


def counts(session: Session, config: Config, incident: Incident, now: datetime) -> tuple[int, int, int]:
    """The card's figures: lists required, of them told, of them overdue."""
    told = told_at(session, incident.id)
    required = [a for a in config.stakeholders.values() if is_required(a, incident)]
    late = [a for a in required if a.key not in told and (due := deadline_of(a, incident)) is not None and due < now]
    return len(required), sum(a.key in told for a in required), len(late)
