"""Putting people in roles: on-call choice, assignment, and what each assignment says."""

from sqlalchemy import or_
from sqlmodel import col, select

from handlers.core.context import Context, handle_of
from handlers.core.effects import Invite
from handlers.core.holders import current_holders
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Role, RoleHolder
from handlers.text.formatting import person_name, role_name
from handlers.text.i18n import _
from handlers.text.markup import Button, fmt
from storage.models import ChecklistItem, RoleAssignment


def on_call(ctx: Context, role: str, busy: set[str]) -> str | None:
    """The first person on call for a role, preferring someone not already busy in this incident."""
    people = ctx.config.people_for_role(role)
    free = [p for p in people if p.key not in busy]
    chosen = next(iter(free or people), None)
    return chosen.key if chosen else None


def assign(ctx: Context, role: str, person: str) -> RoleAssignment:
    """Give a role to a person: end the previous holder's turn, brief the new one, start the ack clock."""
    incident = ctx.incident
    previous = current_holders(ctx.session, incident.id).get(role)
    if previous is not None:
        previous.ended_at = ctx.now
        ctx.session.add(previous)
        nudges.clear(ctx.session, incident.id, kinds.ROLE_ACK, subject=RoleHolder(role, previous.person))
        ctx.session.flush()
    assignment = RoleAssignment(incident_id=incident.id, role=role, person=person, assigned_by=ctx.actor.key, assigned_at=ctx.now)
    ctx.session.add(assignment)
    nudges.clear(ctx.session, incident.id, kinds.ROLE_UNFILLED, subject=Role(role))
    _pass_items(ctx, role, previous.person if previous else None, person)
    due, subject = ctx.now + kinds.ROLE_ACK.pace, RoleHolder(role, person)
    nudges.schedule(ctx.session, incident.id, kinds.ROLE_ACK, f"person:{person}", due, ctx.now, subject=subject)
    brief(ctx, role, person)
    return assignment


def _pass_items(ctx: Context, role: str, previous: str | None, person: str) -> None:
    """Open checklist items owned through a role follow the role to its new holder."""
    items = ctx.session.exec(
        select(ChecklistItem).where(
            ChecklistItem.incident_id == ctx.incident.id,
            ChecklistItem.owner_role == role,
            ChecklistItem.state == "open",
            or_(col(ChecklistItem.owner_person).is_(None), col(ChecklistItem.owner_person) == previous),
        )
    )
    for item in items:
        item.owner_person = person
        ctx.session.add(item)


def brief(ctx: Context, role: str, person: str) -> None:
    """Send the holder their duty text, with the button that acknowledges it."""
    spec = ctx.config.team.roles[role]
    language = ctx.config.language
    message = fmt(
        _("You are **{role}** in incident #{id} “{title}”.\n{duty}\nType `/crisis #{id} ack` to accept."),
        role=role_name(ctx.config, role),
        id=ctx.incident.id,
        title=ctx.incident.title,
        duty=spec.duty.get(language),
    )
    message.buttons.append(Button(_("Accept the role"), f"#{ctx.incident.id} ack", "primary"))
    ctx.dm(person, message)


def invite(ctx: Context, people: list[str]) -> None:
    """Bring people into the incident room on every platform where they have a handle."""
    for room in ctx.rooms():
        handles = [h for h in (handle_of(ctx.config.team.people[p], room.platform) for p in people) if h]
        if handles:
            ctx.emit(room.platform, Invite(tuple(handles)))


def announce_assignment(ctx: Context, role: str, person: str, previous: str | None) -> None:
    """Tell the room who now holds a role."""
    title = role_name(ctx.config, role)
    if previous:
        message = fmt(
            _("{role}: {old} → **{new}** (by {by})"),
            role=title,
            old=person_name(ctx.config, previous),
            new=person_name(ctx.config, person),
            by=ctx.actor.name,
        )
    else:
        message = fmt(_("{role}: **{new}** (by {by})"), role=title, new=person_name(ctx.config, person), by=ctx.actor.name)
    ctx.post(message)
