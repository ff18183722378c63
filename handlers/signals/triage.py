"""The triage post (PRODUCT.md §7): what the triage room reads about a signal, the signal a person names by its number, and
the post told again when the signal's attachment changes (a declaration from it carries it to the new incident)."""

from datetime import datetime

from sqlmodel import Session

from config.model import Config
from handlers.core.context import queue
from handlers.core.effects import Edit
from handlers.core.errors import UsageError
from handlers.signals import attach
from handlers.text.i18n import _
from handlers.text.markup import Button, Message, fmt, lines, text
from storage.models import Incident, Outbox, Signal, SignalLink


def numbered(session: Session, number: str) -> Signal:
    """The signal a person named by its number (as a triage post shows it); a clear refusal when there is none."""
    signal = session.get(Signal, int(number)) if number.isascii() and number.isdigit() and len(number) < 10 else None
    if signal is None:
        raise UsageError(fmt(_("There is no signal {n}."), n=number[:12] or "?"))
    return signal


def triage_message(config: Config, signal: Signal, link: attach.Link | SignalLink | None = None, offer: int | None = None) -> Message:
    """What the triage room reads: the alert, how loud, the suggestion, and the Declare button."""
    figures = []
    if signal.volume is not None:
        ratio = f" ({signal.volume / signal.baseline:.1f}×)" if signal.baseline else ""
        figures.append(_("volume {volume:g}{ratio}").format(volume=signal.volume, ratio=ratio))
    if signal.sentiment is not None:
        figures.append(_("sentiment {value:+.2f}").format(value=signal.sentiment))
    if signal.count > 1:
        figures.append(_("seen {count} times").format(count=signal.count))
    playbook = config.playbooks.get(signal.playbook)
    suggestion = fmt(
        _("Suggested: {playbook} ({sev}) — `/crisis declare {key} {sev} {title}`"),
        playbook=playbook.title.get(config.language) if playbook else signal.playbook,
        key=signal.playbook,
        sev=signal.severity,
        title=signal.title,
    )
    declared = fmt(_("Declared as #{id}."), id=signal.incident_id) if signal.incident_id else Message()
    button = [] if signal.incident_id or link else [Button(_("Declare"), f"declare --signal {signal.id}", "danger")]
    return lines(
        fmt(_("📡 **Signal {n}** from {source}: {title}"), n=signal.id, source=signal.source, title=signal.title),
        text(" · ".join(figures)),
        text(signal.summary[:500]),
        text(signal.url or ""),
        suggestion,
        declared,
        Message(buttons=button),
        attach.triage_lines(signal, link, offer),
        Message(buttons=[Button(_("Track as claim"), f"claim --signal {signal.id}")]),  # §10: on every triage post
    )


def carried(session: Session, signal: Signal, incident: Incident, now: datetime) -> None:
    """Declaring from a signal attaches it to the new incident (moved there if it was on another)."""
    attach.detach(session, signal)
    attach.attach(session, signal, incident, "declared", [], now)


def retell(session: Session, config: Config, signal: Signal, now: datetime) -> None:
    """Edit the signal's triage posts after its attachment changed."""
    link = attach.link_of(session, signal.id)
    message = triage_message(config, signal, link, None if link is not None else attach.latest_open(session))
    for outbox_id in signal.posts:
        posted = session.get(Outbox, outbox_id)
        if posted is not None:
            queue(session, None, posted.platform, Edit(message, ref=outbox_id), now)
