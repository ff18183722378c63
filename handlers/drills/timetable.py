"""A drill's timetable: its scenario's injects stored with the drill, each scheduled like a reminder at its offset."""

from config.scenarios import Scenario
from handlers.core.context import Context
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Inject
from storage.models import DrillInject

ROOM = "room"  # an inject's nudge target: nobody in person, so it is posted in the drill room


def schedule(ctx: Context, scenario: Scenario) -> list[DrillInject]:
    """Store the scenario's injects with the drill and schedule each at its offset from now."""
    rows = []
    for number, inject in enumerate(scenario.injects, start=1):
        row = DrillInject(
            incident_id=ctx.incident.id,
            number=number,
            kind=inject.kind,
            due_at=ctx.now + inject.at,
            answer_within=int(inject.answer_span().total_seconds()),
            content=inject.model_dump(mode="json", exclude_none=True),
        )
        ctx.session.add(row)
        rows.append(row)
        nudges.schedule(ctx.session, ctx.incident.id, kinds.DRILL_INJECT, ROOM, row.due_at, ctx.now, subject=Inject(number))
    return rows
