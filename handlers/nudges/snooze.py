"""Putting off a reminder: `snooze <nudge> 15m|1h`, also from the buttons on every nudge."""

from datetime import timedelta

from sqlmodel import col, select

from config.durations import parse_duration
from handlers.core.cleaning import keyword
from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.permissions import acts_as
from handlers.core.verbs import ANYONE, verb
from handlers.nudges import messages as reminders
from handlers.text.formatting import when
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt
from storage.models import Nudge

LONGEST = timedelta(hours=24)
SHORTEST = timedelta(minutes=1)


@verb(
    "snooze",
    usage=N_("<reminder> <15m|1h>"),
    summary=N_("Put off a reminder for a while."),
    who=(ANYONE,),
    who_label=N_("the person reminded, or the commander"),
)
def snooze(ctx: Context) -> Message:
    """Move a pending reminder later; its repeats and escalation continue from there."""
    words = ctx.args.split()
    if len(words) != 2:
        raise UsageError(_("Name the reminder (its number) and for how long, e.g. `42 15m`."))
    number, span = keyword(words[0]).lstrip("#"), keyword(words[1])  # full-width digits as an input method types them
    nudge = ctx.session.get(Nudge, int(number)) if number.isascii() and number.isdigit() and len(number) < 10 else None
    if nudge is None or nudge.incident_id != ctx.incident.id:
        raise Refusal(fmt(_("#{id} has no reminder {n}."), id=ctx.incident.id, n=number[:12]))
    reminded = reminders.resolve_targets(ctx.session, ctx.config, ctx.incident, nudge.target)
    if nudge.state == "escalated" or (nudge.state == "fired" and nudge.repeat_seconds):
        nudge = _live_successor(ctx, nudge) or nudge  # the button sits on the message; the reminder lives on
    if nudge.state not in ("pending", "snoozed"):
        raise Refusal(fmt(_("Reminder {n} is no longer waiting: nothing to snooze."), n=nudge.id))
    try:
        delay = parse_duration(span)
    except ValueError:
        raise UsageError(fmt(_("“{span}” is not a duration; use e.g. 15m or 1h."), span=span[:20])) from None
    if delay > LONGEST or delay < SHORTEST:
        raise UsageError(_("A reminder can be snoozed for one minute to 24 hours."))
    reminded += reminders.resolve_targets(ctx.session, ctx.config, ctx.incident, nudge.target)
    if ctx.actor.key not in reminded and not acts_as(ctx, ("commander",)):
        raise Refusal(fmt(_("Reminder {n} is not yours; only the person reminded or the commander may snooze it."), n=nudge.id))
    nudge.state, nudge.due_at, nudge.lease_until, nudge.lease_owner = "snoozed", ctx.now + delay, None, None
    ctx.session.add(nudge)
    ctx.log("snooze", nudge.kind, nudge=nudge.id, until=nudge.due_at.isoformat())
    return fmt(_("Reminder {n} snoozed until {at}."), n=nudge.id, at=when(ctx.config, nudge.due_at, ctx.now))


def _live_successor(ctx: Context, nudge: Nudge) -> Nudge | None:
    """The reminder that carries on after this one escalated: same incident, kind and subject, still waiting."""
    query = (
        select(Nudge)
        .where(Nudge.incident_id == nudge.incident_id, Nudge.kind == nudge.kind, Nudge.subject == nudge.subject)
        .where(col(Nudge.state).in_(("pending", "snoozed")))
        .order_by(col(Nudge.id).desc())
    )
    return ctx.session.exec(query).first()
