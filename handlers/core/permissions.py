"""Who may do what (PRODUCT.md §3), checked before any handler runs."""

from handlers.core.context import Context
from handlers.core.errors import Refusal
from handlers.core.holders import current_holders, roles_held
from handlers.core.verbs import ANYONE, PARTICIPANT, Verb, who_text
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt, lines


def is_participant(ctx: Context) -> bool:
    """Whether the actor holds a role in the incident or declared it."""
    incident = ctx.incident
    return incident.declared_by == ctx.actor.key or bool(roles_held(ctx.session, incident.id, ctx.actor.key))


def acts_as(ctx: Context, roles: tuple[str, ...]) -> bool:
    """Whether the actor holds one of the roles; the declarer stands in while no commander is named."""
    return ctx.acts_as(roles)


def check_permission(ctx: Context, spec: Verb) -> None:
    """Refuse, kindly and precisely, when the actor may not use this verb here."""
    if ANYONE in spec.who or not spec.needs_incident:
        return
    if PARTICIPANT in spec.who:
        if is_participant(ctx):
            return
        instead = fmt(_("Ask the commander ({name}) to give you a role."), name=_commander_name(ctx))
    elif acts_as(ctx, spec.who):
        return
    else:
        instead = _whom_to_ask(ctx, spec.who)
    raise Refusal(
        lines(
            fmt(_("Only {who} may use `{verb}` in incident #{id}."), who=who_text(spec, ctx.config), verb=spec.name, id=ctx.incident.id),
            instead,
            fmt(_("Usage: `{usage}`"), usage=spec.usage_line()),
        )
    )


def _commander_name(ctx: Context) -> str:
    holder = current_holders(ctx.session, ctx.incident.id).get("commander")
    return ctx.name(holder.person if holder else ctx.incident.declared_by)


def _whom_to_ask(ctx: Context, roles: tuple[str, ...]) -> Message:
    """The people who hold these roles now, each named once; the stand-in commander if none."""
    holders = current_holders(ctx.session, ctx.incident.id)
    names = list(dict.fromkeys(ctx.name(holders[r].person) for r in roles if r in holders))
    if not names and "commander" in roles:
        names = [ctx.name(ctx.incident.declared_by)]  # the declarer stands in while no commander is named
    if not names:
        return fmt(_("Nobody holds that role yet; the commander ({name}) can assign it."), name=_commander_name(ctx))
    return fmt(_("Ask {people}."), people=", ".join(names))
