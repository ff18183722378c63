"""The drill scorecard: each milestone's time since the start against its target."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.core.holders import current_holders
from handlers.nudges import kinds
from handlers.text.formatting import duration_text
from handlers.text.i18n import _
from handlers.text.labels import INJECT_KIND, label
from handlers.text.markup import Message, fmt, lines
from storage.models import DrillInject, Incident, TimelineEvent

MARKS = {True: "✅", False: "❌", None: "⏳"}


@dataclass(frozen=True)
class Milestone:
    """One line of the scorecard; times count from the start (declaration) of the drill."""

    key: str  # "roles", "first_statement", "first_update", or "i<n>" for an inject answered
    label: str  # in the language being spoken
    at: datetime | None  # when it was reached; None: not (yet)
    elapsed: timedelta | None  # at − start
    target: timedelta  # reached by start + target to be on time
    met: bool | None  # None: not reached yet, and still in time


def scorecard(session: Session, config: Config, incident: Incident, now: datetime) -> list[Milestone]:
    """The milestones of an incident (a drill's injects included), each met, missed or still open at `now`."""
    start = incident.declared_at
    over = incident.resolved_at is not None or incident.phase in ("resolved", "closed")
    playbook = config.playbooks.get(incident.playbook)
    timing = config.timing(playbook, incident.severity) if playbook else config.severities[incident.severity]

    def milestone(key: str, label: str, at: datetime | None, target: timedelta) -> Milestone:
        elapsed = at - start if at else None
        met: bool | None
        if elapsed is not None:
            met = elapsed <= target
        else:
            met = False if over or now - start > target else None
        return Milestone(key, label, at, elapsed, target, met)

    first = {
        kind: session.exec(
            select(func.min(TimelineEvent.at)).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind)
        ).one()
        for kind in ("approved", "update")
    }
    found = [
        milestone("roles", _("Roles filled (every required role accepted)"), _roles_filled(session, config, incident), kinds.ROLE_ACK.pace),
        milestone("first_statement", _("First approved statement"), first["approved"], timing.first_statement),
        milestone("first_update", _("First status update"), first["update"], timing.update_every),
    ]
    rows = session.exec(select(DrillInject).where(DrillInject.incident_id == incident.id).order_by(col(DrillInject.number))).all()
    for row in rows:
        arrived = row.posted_at or row.due_at  # a late post (bot down) does not count against the team
        target = arrived - start + timedelta(seconds=row.answer_within)
        said = _("I{n} {kind} answered").format(n=row.number, kind=label(INJECT_KIND, row.kind))
        found.append(milestone(f"i{row.number}", said, row.answered_at, target))
    return found


def _roles_filled(session: Session, config: Config, incident: Incident) -> datetime | None:
    """When the last required role was acknowledged by its current holder; None while one is unfilled or unacknowledged."""
    playbook = config.playbooks.get(incident.playbook)
    required = config.required_roles(playbook, incident.severity) if playbook else []
    holders = current_holders(session, incident.id)
    times = [holders[role].acked_at if role in holders else None for role in required]
    acked = [moment for moment in times if moment is not None]
    if not times or len(acked) < len(times):
        return None
    return max(acked)


def render_scorecard(session: Session, config: Config, incident: Incident, now: datetime) -> Message:
    """The scorecard as a message: a header with the count on time, then one line per milestone."""
    milestones = scorecard(session, config, incident, now)
    met = sum(1 for m in milestones if m.met)
    header = fmt(
        _("🧪 **Drill scorecard — #{id} {title}**: {met} of {total} on time"),
        id=incident.id,
        title=incident.title,
        met=met,
        total=len(milestones),
    )
    rows = []
    for m in milestones:
        reached = duration_text(m.elapsed, seconds=True) if m.elapsed is not None else (_("not yet") if m.met is None else _("not reached"))
        rows.append(
            fmt(
                _("{mark} {label}: {reached} · target {target}"),
                mark=MARKS[m.met],
                label=m.label,
                reached=reached,
                target=duration_text(m.target, seconds=True),
            )
        )
    return lines(header, *rows)
