"""When an effect is given up: the incident room (or the triage room) is told what did not go out and how to redo it."""

import logging

from sqlmodel import Session, select

from handlers.core.context import Deps, queue
from handlers.core.effects import DM, Answer, Effect, OpenRoom, Post
from handlers.text.i18n import _
from handlers.text.markup import Message, text
from storage.models import Incident, Outbox, Room

log = logging.getLogger(__name__)


def tell_given_up(session: Session, deps: Deps, row: Outbox, effect: Effect | None, reason: str) -> bool:
    """Queue the notice of a given-up effect (None: its row could not be read) to its incident room, or to the triage
    room when there is no usable room; return whether one was queued."""
    if isinstance(effect, Post) and effect.notice:  # a notice that cannot be delivered is only logged, never re-announced
        log.error("a delivery-failure notice could not be delivered either (outbox %s): %s", row.id, reason)
        return False
    incident = session.get(Incident, row.incident_id) if row.incident_id is not None else None
    message = _notice(row, effect, incident, reason)
    room = session.exec(select(Room).where(Room.incident_id == row.incident_id, Room.platform == row.platform)).first()
    now = deps.clock.now()
    if incident is not None and row.kind != OpenRoom.kind and room is not None and room.external_id is not None:
        queue(session, incident.id, row.platform, Post(message, notice=True), now)
        return True
    triage = getattr(deps.config.triage_room, row.platform, None) if deps.config.triage_room else None
    if triage is None:
        log.error("outbox %s was given up and there is no room to say so: %s", row.id, message.plain())
        return False
    queue(session, row.incident_id, row.platform, Post(message, to=str(triage), notice=True), now)
    return True


def _notice(row: Outbox, effect: Effect | None, incident: Incident | None, reason: str) -> Message:
    what = _(effect.what) if effect is not None else row.kind
    said_message = getattr(effect, "message", None)
    said = " ".join(said_message.plain().split()) if said_message is not None and effect is not None and effect.quoted else ""
    if said:
        what = f"{what} “{said[:160]}{'…' if len(said) > 160 else ''}”"
    if isinstance(effect, DM | Answer):
        what = _("{what} to {to}").format(what=what, to=effect.to or "?")
    headline = _("⚠️ Could not deliver {what} on {platform} ({reason}); attempts: {attempts}.").format(
        what=what, platform=row.platform, attempts=row.attempts, reason=reason[:200]
    )
    redo = effect.redo if effect is not None else None
    if redo and incident is not None:
        return text(headline + "\n" + _("To do it again: {command}").format(command=redo.format(n=incident.id)))
    return text(headline + "\n" + _("Please repeat it by hand if it is still needed."))
