"""When each stakeholder list must be told (PRODUCT.md §10), and the reminder that holds the team to it."""

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

WHO_IS_TOLD = "role:liaison,role:commander"  # the liaison and the commander hear the deadline, then the executive sponsor


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
