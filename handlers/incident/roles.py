"""Roles in an incident: assign, ack, handoff, roles."""

from sqlmodel import col, select

from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.holders import current_holders
from handlers.core.people import is_mention, resolve_person, resolve_role, role_title
from handlers.core.permissions import acts_as
from handlers.core.verbs import ANYONE, verb
from handlers.incident import staffing
from handlers.incident.card import render_roles
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import RoleHolder
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt, lines
from storage.models import RoleAssignment


def _role_and_person(ctx: Context) -> tuple[str, str]:
    words = ctx.args.split()
    if len(words) != 2:
        raise UsageError(_("Name one role and one person."))
    first, second = words
    if is_mention(first) and not is_mention(second):
        first, second = second, first  # `assign @bob legal` means the same thing
    return resolve_role(ctx, first), resolve_person(ctx, second).key


@verb("assign", "role", usage=N_("<role> @person"), summary=N_("Give a role; the holder gets the duty text."), who=("commander",))
def assign_role(ctx: Context) -> Message:
    """Give a role to a person, replacing the previous holder."""
    role, person = _role_and_person(ctx)
    previous = current_holders(ctx.session, ctx.incident.id).get(role)
    if previous is not None and previous.person == person:
        raise Refusal(fmt(_("{person} already holds {role}."), person=ctx.name(person), role=role_title(ctx, role)))
    return _give(ctx, role, person, previous.person if previous else None)


def _give(ctx: Context, role: str, person: str, previous: str | None) -> Message:
    staffing.assign(ctx, role, person)
    staffing.invite(ctx, [person])
    staffing.announce_assignment(ctx, role, person, previous)
    if previous:
        ctx.dm(
            previous,
            fmt(
                _("{by} handed {role} in #{id} to {new}. Thank you; you are released from it."),
                by=ctx.actor.name,
                role=role_title(ctx, role),
                id=ctx.incident.id,
                new=ctx.name(person),
            ),
        )
    ctx.log("role", role, person=person, previous=previous)
    ctx.refresh_card()
    warning = Message()
    if role not in ctx.config.team.people[person].roles:
        warning = fmt(_("Note: {person} is not on the {role} rota in the team model."), person=ctx.name(person), role=role_title(ctx, role))
    return lines(
        fmt(_("{person} is now {role} in #{id}."), person=ctx.name(person), role=role_title(ctx, role), id=ctx.incident.id), warning
    )


@verb("ack", summary=N_("Accept the roles you were given."), who=(ANYONE,))
def acknowledge(ctx: Context) -> Message:
    """Accept my roles in this incident; stops their nudges."""
    pending = ctx.session.exec(
        select(RoleAssignment).where(
            RoleAssignment.incident_id == ctx.incident.id,
            RoleAssignment.person == ctx.actor.key,
            col(RoleAssignment.ended_at).is_(None),
            col(RoleAssignment.acked_at).is_(None),
        )
    ).all()
    if not pending:
        raise Refusal(fmt(_("You have no role waiting to be accepted in #{id}."), id=ctx.incident.id))
    titles = []
    for assignment in pending:
        assignment.acked_at = ctx.now
        ctx.session.add(assignment)
        nudges.clear(ctx.session, ctx.incident.id, kinds.ROLE_ACK, subject=RoleHolder(assignment.role, ctx.actor.key))
        titles.append(role_title(ctx, assignment.role))
    ctx.log("ack", ", ".join(a.role for a in pending))
    message = fmt(_("{person} accepted: {roles}."), person=ctx.actor.name, roles=", ".join(titles))
    ctx.refresh_card()
    return ctx.announce(message)


@verb(
    "handoff",
    usage=N_("<role> @person"),
    summary=N_("Move a role to someone else; the old holder is told."),
    who_label=N_("the commander, or the holder of the role"),
)
def handoff(ctx: Context) -> Message:
    """Move a held role to another person: by the commander or the holder."""
    role, person = _role_and_person(ctx)
    previous = current_holders(ctx.session, ctx.incident.id).get(role)
    if previous is None:
        raise Refusal(
            fmt(_("Nobody holds {role} yet; the commander can `/crisis assign {key} @person`."), role=role_title(ctx, role), key=role)
        )
    if previous.person != ctx.actor.key and not acts_as(ctx, ("commander",)):
        raise Refusal(
            lines(
                fmt(
                    _("Only the commander or the holder of {role} ({holder}) may hand it off."),
                    role=role_title(ctx, role),
                    holder=ctx.name(previous.person),
                ),
                fmt(_("Usage: `{usage}`"), usage=handoff.verb.usage_line()),
            )
        )
    if previous.person == person:
        raise Refusal(fmt(_("{person} already holds {role}."), person=ctx.name(person), role=role_title(ctx, role)))
    return _give(ctx, role, person, previous.person)


@verb("roles", summary=N_("Roles, who holds them, and who has accepted."), changes=False)
def list_roles(ctx: Context) -> Message:
    """Roles and their holders."""
    return lines(fmt(_("**Roles in #{id}**"), id=ctx.incident.id), render_roles(ctx.session, ctx.config, ctx.incident))
