"""What the incident's clocks promise and whom they remind: the first statement, the next update, an overdue task."""

from handlers.core.context import Context
from handlers.incident.timing import incident_timing
from handlers.line.versions import current_line
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Stage
from storage.models import ChecklistItem


def schedule_first_statement(ctx: Context, timing) -> None:
    """The golden-hour reminders: 15 minutes before the first statement is due, and at the deadline."""
    incident = ctx.incident
    nudges.clear(ctx.session, incident.id, kinds.FIRST_STATEMENT)
    if current_line(ctx.session, incident.id) is not None:
        return  # already said: the golden hour is behind us
    due = incident.declared_at + timing.first_statement
    target = "role:commander,role:comms"
    warning = due - kinds.FIRST_STATEMENT.repeat
    if warning > ctx.now:
        nudges.schedule(ctx.session, incident.id, kinds.FIRST_STATEMENT, target, warning, ctx.now, subject=Stage("warning"), once=True)
    nudges.schedule(ctx.session, incident.id, kinds.FIRST_STATEMENT, target, max(due, ctx.now), ctx.now, subject=Stage("deadline"))


def restart_update_clock(ctx: Context, due_at) -> None:
    """Promise the next update at due_at; while the response is live, a repeating nudge keeps the promise."""
    incident = ctx.incident
    incident.next_update_at = due_at
    ctx.session.add(incident)
    nudges.clear(ctx.session, incident.id, kinds.UPDATE_DUE)
    if incident.phase not in ("resolved", "closed"):
        cadence = incident_timing(ctx.config, ctx.incident).update_every
        nudges.schedule(ctx.session, incident.id, kinds.UPDATE_DUE, "role:commander,role:comms", due_at, ctx.now, repeat=cadence)


def owner_target(item: ChecklistItem) -> str:
    """Who an overdue item nudges: its role (whoever holds it then), else its person, else the commander."""
    if item.owner_role:
        return f"role:{item.owner_role}"
    return f"person:{item.owner_person}" if item.owner_person else "role:commander"
