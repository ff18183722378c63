"""What a nudge says and to whom: the people a target names, and the message its kind's words write."""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from config.model import Config
from handlers.core.holders import current_holders
from handlers.nudges import outside, words
from handlers.nudges.record import Kind
from handlers.nudges.saying import Late, Words
from handlers.nudges.subjects import Subject
from handlers.text.formatting import duration_text
from handlers.text.i18n import N_, _
from handlers.text.markup import Button, Message, fmt
from storage.models import Incident, Nudge

# What every kind says, by the name stored in `nudge.kind`: read here, when it fires, so no feature imports the words.
SAYS: dict[str, Words[Any]] = {**words.WORDS, **outside.WORDS}
SNOOZES = (("15m", N_("Snooze 15 min")), ("1h", N_("Snooze 1 h")))


def resolve_targets(session: Session, config: Config, incident: Incident | None, target: str) -> list[str]:
    """The people a target names: `person:x`, `role:r` (its holder; the declarer stands in for a missing commander), `backup:r`."""
    # Who holds which role is read only for a role target: most reminders name a person, and each one fired reads this.
    holders = current_holders(session, incident.id) if incident and "role:" in target else {}
    people: list[str | None] = []
    for part in target.split(","):
        kind, _sep, name = part.partition(":")
        if kind == "person":
            people.append(name)
        elif kind == "role" and name in holders:
            people.append(holders[name].person)
        elif kind == "role" and name == "commander" and incident is not None:
            people.append(incident.declared_by)
        elif kind == "backup" and name in config.team.roles:
            people.append(config.team.roles[name].backup)
    return [p for p in dict.fromkeys(people) if p is not None and p in config.team.people]


def render(session: Session, config: Config, incident: Incident, nudge: Nudge, kind: Kind, subject: Subject, now: datetime) -> Message:
    """The nudge message with its buttons (the action that clears it, and snooze)."""
    escalated = nudge.reason.startswith("escalated")
    late = Late(
        session=session,
        config=config,
        incident=incident,
        nudge=nudge,
        subject=subject,
        late=duration_text(now - (nudge.first_due_at or nudge.due_at)),
        waited=duration_text(now - nudge.created_at),
        escalated=escalated,
        clears=kind.clearing(subject),
        pace=kind.repeat,
        now=now,
    )
    head = fmt("⏰ **#{id} {title}** — ", id=incident.id, title=incident.title)
    actions: list[Button]
    said = SAYS.get(kind.name)
    if escalated and nudge.target == "role:exec" and said is not None and said.sponsor is not None:
        suffix = fmt(_(" ({late} late); the people responsible were reminded. You may want to step in."), late=late.late)
        body, actions = said.sponsor(late) + suffix, []
    elif said is not None:
        body, actions = said.say(late)
    else:
        body, actions = fmt(_("{kind} is {late} late."), kind=kind.name, late=late.late), []
    snooze = [Button(_(label), f"#{incident.id} snooze {nudge.id} {span}") for span, label in SNOOZES]
    return Message((head + body).spans, actions + snooze)
