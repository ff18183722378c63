"""When an effect is given up: the incident room (or the triage room) is told what did not go out and how to redo it."""

import logging

from sqlmodel import Session, select

from handlers.core.context import Deps, queue_effect
from handlers.core.ports import EffectKind
from handlers.text.i18n import N_, _
from handlers.text.markup import Message, text
from storage.models import Incident, Outbox, Room

log = logging.getLogger(__name__)

NOTICE = "notice"  # payload flag of a notice itself: a notice that cannot be delivered is only logged, never re-announced

WHAT = {
    EffectKind.OPEN_ROOM: N_("the incident room"),
    EffectKind.POST: N_("a message"),
    EffectKind.REFRESH_CARD: N_("the card update"),
    EffectKind.INVITE: N_("the invitations to the room"),
    EffectKind.DM: N_("a direct message"),
    EffectKind.REFRESH_LINE: N_("the pinned approved line"),
    EffectKind.PUBLISH: N_("the publication"),
    EffectKind.EDIT: N_("an update of an earlier message"),
    EffectKind.REPORT: N_("the review report"),
    EffectKind.ANSWER: N_("an answer to a command"),
}
UNQUOTED = {EffectKind.ANSWER}  # an answer is the asker's alone (and may repeat what a stranger typed): never in a room
REDO = {  # the command that does it again ({n}: the incident number); a publication's failure is told by the domain
    EffectKind.OPEN_ROOM: "/crisis #{n} status",
    EffectKind.REFRESH_CARD: "/crisis #{n} status",
    EffectKind.INVITE: "/crisis #{n} roles",
    EffectKind.REFRESH_LINE: "/crisis #{n} line",
    EffectKind.REPORT: "/crisis #{n} review",
}


def tell_given_up(session: Session, deps: Deps, row: Outbox, reason: str) -> bool:
    """Queue the notice of a given-up effect to its incident room, or to the triage room when there is no usable room;
    return whether one was queued."""
    if row.payload.get(NOTICE):
        log.error("a delivery-failure notice could not be delivered either (outbox %s): %s", row.id, reason)
        return False
    incident = session.get(Incident, row.incident_id) if row.incident_id is not None else None
    message = _notice(session, row, incident, reason)
    room = session.exec(select(Room).where(Room.incident_id == row.incident_id, Room.platform == row.platform)).first()
    now = deps.clock.now()
    if incident is not None and row.kind != EffectKind.OPEN_ROOM and room is not None and room.external_id is not None:
        queue_effect(session, incident.id, row.platform, EffectKind.POST, now, message, **{NOTICE: True})
        return True
    triage = getattr(deps.config.triage_room, row.platform, None) if deps.config.triage_room else None
    if triage is None:
        log.error("outbox %s was given up and there is no room to say so: %s", row.id, message.plain())
        return False
    queue_effect(session, row.incident_id, row.platform, EffectKind.POST, now, message, to=str(triage), **{NOTICE: True})
    return True


def _notice(session: Session, row: Outbox, incident: Incident | None, reason: str) -> Message:
    what = _(WHAT[row.kind]) if row.kind in WHAT else row.kind
    quoted = "message" in row.payload and row.kind not in UNQUOTED
    said = " ".join(Message.from_json(row.payload["message"]).plain().split()) if quoted else ""
    if said:
        what = f"{what} “{said[:160]}{'…' if len(said) > 160 else ''}”"
    if row.kind in (EffectKind.DM, EffectKind.ANSWER):
        what = _("{what} to {to}").format(what=what, to=row.payload.get("to", "?"))
    headline = _("⚠️ Could not deliver {what} on {platform} ({reason}); attempts: {attempts}.").format(
        what=what, platform=row.platform, attempts=row.attempts, reason=reason[:200]
    )
    redo = _redo(session, row, incident)
    if redo:
        return text(headline + "\n" + _("To do it again: {command}").format(command=redo))
    return text(headline + "\n" + _("Please repeat it by hand if it is still needed."))


def _redo(session: Session, row: Outbox, incident: Incident | None) -> str | None:
    if incident is None:
        return None
    template = REDO.get(row.kind)
    return template.format(n=incident.id) if template else None
