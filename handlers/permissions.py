"""Who may do what (PRODUCT.md §3), checked before any handler runs."""

from handlers.assignments import current_holders, roles_held
from handlers.context import Context
from handlers.errors import Refusal
from handlers.i18n import _
from handlers.markup import fmt, lines
from handlers.verbs import ANYONE, PARTICIPANT, Verb, who_text


def is_participant(ctx: Context) -> bool:
    """Whether the actor holds a role in the incident or declared it."""
    incident = ctx.incident
    return incident.declared_by == ctx.actor.key or bool(roles_held(ctx.session, incident.id, ctx.actor.key))


def acts_as(ctx: Context, roles: tuple[str, ...]) -> bool:
    """Whether the actor holds one of the roles; the declarer stands in while no commander is named."""
    held = roles_held(ctx.session, ctx.incident.id, ctx.actor.key)
    if held & set(roles):
        return True
    if "commander" in roles and ctx.incident.declared_by == ctx.actor.key:
        return "commander" not in current_holders(ctx.session, ctx.incident.id)
    return False


def check_permission(ctx: Context, spec: Verb) -> None:
    """Refuse, kindly and precisely, when the actor may not use this verb here."""
    if ANYONE in spec.who or not spec.needs_incident:
        return
    if PARTICIPANT in spec.who:
        if is_participant(ctx):
            return
    elif acts_as(ctx, spec.who):
        return
    holders = current_holders(ctx.session, ctx.incident.id)
    named = [f"{ctx.name(holders[r].person)}" for r in spec.who if r in holders]
    instead = (
        fmt(_("Ask {people}."), people=", ".join(named)) if named else fmt(_("Nobody holds that role yet; the commander can assign it."))
    )
    raise Refusal(
        lines(
            fmt(_("Only {who} may use `{verb}` in incident #{id}."), who=who_text(spec, ctx.config), verb=spec.name, id=ctx.incident.id),
            instead,
            fmt(_("Usage: `{usage}`"), usage=spec.usage_line()),
        )
    )
