"""`attach` and `detach`: fixing a signal's attachment by hand, from the buttons on its triage post (PRODUCT.md §7)."""

from sqlmodel import Session

from handlers.core.context import Context
from handlers.core.errors import Refusal, UsageError
from handlers.core.verbs import PARTICIPANT, verb
from handlers.signals import attach
from handlers.signals.triage import numbered, retell
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, fmt
from storage.models import Signal


def _signal(session: Session, args: str) -> Signal:
    words = args.split()
    number = words[0].lstrip("sS") if words else ""
    if len(words) > 1:
        raise UsageError(fmt(_("Unexpected “{word}”."), word=words[1][:40]))
    return numbered(session, number)


@verb(
    "attach",
    usage=N_("<signal>"),
    summary=N_("Attach a signal to this incident, so its figures count in `reaction`."),
    who=(PARTICIPANT,),
)
def attach_signal(ctx: Context) -> Message:
    """Attach a signal by hand (moved here if it was on another incident)."""
    signal, incident = _signal(ctx.session, ctx.args), ctx.incident
    if incident.drill:
        raise Refusal(fmt(_("#{id} is a drill: its reaction comes from its injects, never from real signals."), id=incident.id))
    link = attach.link_of(ctx.session, signal.id)
    if link is not None and link.incident_id == incident.id:
        raise Refusal(fmt(_("Signal {n} is already attached to #{id}."), n=signal.id, id=incident.id))
    if signal.incident_id is not None and signal.incident_id != incident.id:
        raise Refusal(fmt(_("Signal {n} raised #{other}: it stays there."), n=signal.id, other=signal.incident_id))
    moved = attach.detach(ctx.session, signal)
    attach.attach(ctx.session, signal, incident, "manual", [], ctx.now)
    retell(ctx.session, ctx.config, signal, ctx.now)
    ctx.log("signal", signal.title, signal=signal.id, attached=True, moved_from=moved)
    said = fmt(_("📡 Signal {n} attached to #{id}: its figures now count in `/crisis reaction`."), n=signal.id, id=incident.id)
    return said + (fmt(_(" (Moved from #{other}.)"), other=moved) if moved else Message())


@verb(
    "detach",
    usage=N_("<signal>"),
    summary=N_("Take a signal attached by mistake off this incident."),
    who=(PARTICIPANT,),
)
def detach_signal(ctx: Context) -> Message:
    """Detach a signal: its figures leave the reaction chart; its triage post offers Declare again."""
    signal, incident = _signal(ctx.session, ctx.args), ctx.incident
    link = attach.link_of(ctx.session, signal.id)
    if link is None or link.incident_id != incident.id:
        raise Refusal(fmt(_("Signal {n} is not attached to #{id}."), n=signal.id, id=incident.id))
    if signal.incident_id == incident.id:
        raise Refusal(fmt(_("Signal {n} raised #{id}: it stays attached."), n=signal.id, id=incident.id))
    attach.detach(ctx.session, signal)
    retell(ctx.session, ctx.config, signal, ctx.now)
    ctx.log("signal", signal.title, signal=signal.id, detached=True)
    return fmt(_("📡 Signal {n} detached from #{id}: its figures no longer count here."), n=signal.id, id=incident.id)
