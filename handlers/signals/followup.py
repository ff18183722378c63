"""Follow-up posts (PRODUCT.md §7): one hour and four hours after a version goes out, the room hears how the public reaction
moved against the hour before it; an hour after, a statement whose negative volume still rises nudges comms and the commander."""

from datetime import datetime, timedelta

from sqlmodel import Session, select

from handlers.core.context import Deps, in_every_room
from handlers.core.effects import Post
from handlers.nudges import kinds
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Aftermath
from handlers.signals import buckets
from handlers.text.i18n import _
from handlers.text.markup import Message, fmt
from storage.models import Incident, Nudge

AFTER = (1, 4)  # hours after a publication the room is told
ROOM = "room"  # nobody in person: posted in the incident's rooms
WHO = "role:comms,role:commander"


def expect(session: Session, incident_id: int, version: int, now: datetime) -> None:
    """A version went out: promise its follow-ups (once per version, however many targets carry it)."""
    subject = kinds.REACTION_FOLLOW_UP.store(Aftermath(version, AFTER[0]))
    query = select(Nudge.id).where(Nudge.incident_id == incident_id, Nudge.kind == kinds.REACTION_FOLLOW_UP.name, Nudge.subject == subject)
    if session.exec(query).first() is not None:
        return
    for hours in AFTER:
        nudges.schedule(session, incident_id, kinds.REACTION_FOLLOW_UP, ROOM, now + timedelta(hours=hours), now, Aftermath(version, hours))


def signed(value: float) -> str:
    """A sentiment as people write it: −0.62, 0.10 (a true minus sign)."""
    return f"{value:.2f}".replace("-", "−")


def change_text(change: buckets.Change) -> str:
    """'volume ×0.4 (50 → 20 an hour), sentiment −0.62 → −0.21'."""
    before, after = change.volume_before, change.volume_after
    if change.ratio is None:
        volume = _("volume {after:g} an hour (none the hour before)").format(after=round(after, 1))
    else:
        volume = _("volume ×{ratio:g} ({before:g} → {after:g} an hour)").format(
            ratio=float(f"{change.ratio:.2g}"), before=round(before, 1), after=round(after, 1)
        )
    mood_before, mood_after = change.before.sentiment, change.after.sentiment
    mood = _("sentiment {before} → {after}").format(
        before=signed(mood_before) if mood_before is not None else "—", after=signed(mood_after) if mood_after is not None else "—"
    )
    return _("{volume}, {sentiment}").format(volume=volume, sentiment=mood)


def deliver(session: Session, deps: Deps, incident: Incident, subject: Aftermath, now: datetime) -> None:
    """Post the follow-up in the room (nothing when no signal is attached around it); after one hour, judge whether it lands."""
    mark = next((m for m in buckets.marks(session, incident) if m.version == subject.version), None)
    if mark is None:
        return
    moved = buckets.change(session, incident.id, mark.slot, subject.hours)
    if moved.quiet:
        return
    words = _("📊 #{id}: {hours} h since v{version} went out: {change}.")
    message = fmt(words, id=incident.id, hours=subject.hours, version=subject.version, change=change_text(moved))
    in_every_room(session, incident.id, now, Post(message + Message()))
    if subject.hours == AFTER[0] and _not_landing(deps, moved):
        reason = f"figures:{moved.before.negative:g}→{moved.after.negative:g}"
        again = Aftermath(subject.version, subject.hours)
        nudges.schedule(session, incident.id, kinds.NOT_LANDING, WHO, now, now, again, reason, once=True)


def _not_landing(deps: Deps, moved: buckets.Change) -> bool:
    """Negative volume in the hour since is above the threshold × the hour before, and not a trickle."""
    rules = deps.config.signals
    before, after = moved.before.negative, moved.after.negative
    return after > 0 and after > rules.not_landing_ratio * before and after >= rules.not_landing_min_volume
