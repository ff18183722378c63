"""When each stakeholder list must be told (PRODUCT.md §10), and the reminder that holds the team to it."""

from datetime import datetime

from sqlmodel import Session, select

from config.model import Config
from handlers.core.context import Context
from handlers.desk.due import (
    counts,  # noqa: F401  (moved to due.py; still importable here)
    deadline_of,
    is_required,
    told_at,
)
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Audience
from storage.models import Incident, StakeholderNotice

WHO_IS_TOLD = "role:liaison,role:commander"  # the liaison and the commander hear the deadline, then the executive sponsor


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
