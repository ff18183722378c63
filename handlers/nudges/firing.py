"""Firing due nudges: claim them atomically, say what is late, then repeat, escalate or stop, as the kind's record says."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, insert, or_, update
from sqlmodel import Session, col, func, select

from config.model import Config
from handlers.core.context import Deps, handle_of, in_every_room, outbox_values
from handlers.core.effects import DM, Post
from handlers.nudges import kinds, scripted
from handlers.nudges import messages as reminders
from handlers.nudges.record import Kind
from handlers.nudges.subjects import BadSubject, Subject
from handlers.text.i18n import speaking
from storage.db import in_index_order
from storage.models import Incident, Nudge, Outbox

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
ACTIVE = ("pending", "snoozed")
# Written into the SQL, not bound: the planner must see the values to use the partial indexes on active nudges
# (storage.models.NUDGE_ACTIVE), also in a plan PostgreSQL keeps for a prepared statement.
_ACTIVE = col(Nudge.state).in_(bindparam("active", list(ACTIVE), expanding=True, literal_execute=True))


def _claimable(now: datetime) -> tuple:
    """Active, due, and leased to no live worker."""
    return _ACTIVE, col(Nudge.due_at) <= now, or_(col(Nudge.lease_until).is_(None), col(Nudge.lease_until) < now)


def lock_due(session: Session, now: datetime, limit: int) -> list[tuple[Nudge, Incident | None]]:
    """Lock a batch of due nudges for this transaction, with their incidents: skip-locked on PostgreSQL (another replica
    takes the next ones), SQLite's write lock. Fired and committed in the same transaction, they need no lease."""
    in_index_order(session)
    due = (
        select(Nudge, Incident)
        .outerjoin(Incident, col(Incident.id) == Nudge.incident_id)
        .where(*_claimable(now))
        .order_by(col(Nudge.due_at), col(Nudge.id))
        .limit(limit)
        .with_for_update(of=Nudge, skip_locked=True)
    )
    locked: list[tuple[Nudge, Incident | None]] = [(nudge, incident) for nudge, incident in session.exec(due)]
    if locked:
        in_index_order(session, sorting=True)  # the reminders' own reads are planned as usual
    return locked


def claim(session: Session, now: datetime, owner: str, limit: int = 100, lease: timedelta = LEASE) -> list[int]:
    """Lease a batch of due nudges to one worker (skip-locked on PostgreSQL); return their ids."""
    in_index_order(session)
    due = select(Nudge.id).where(*_claimable(now)).order_by(col(Nudge.due_at), col(Nudge.id)).limit(limit).with_for_update(skip_locked=True)
    # Two statements, not UPDATE … WHERE id IN (that SELECT): PostgreSQL may plan the subquery as the inner side of a
    # nested loop, and each rescan skips the rows the UPDATE just changed, so one claim took every due row, not `limit`.
    locked = list(session.execute(due).scalars())
    if not locked:
        session.commit()
        return []
    claimed = (
        session.execute(
            update(Nudge)
            .where(col(Nudge.id).in_(locked))  # locked by this transaction (SQLite: its write lock): still claimable
            .values(lease_until=now + lease, lease_owner=owner)
            .returning(col(Nudge.id))
        )
        .scalars()
        .all()
    )
    session.commit()
    return sorted(claimed)


def next_due(session: Session) -> datetime | None:
    """When the next active nudge is due, or its lease ends if another worker holds it. Each part reads an index from its
    start, so the cost does not grow with how many nudges are pending."""
    in_index_order(session)
    moments = [
        session.exec(
            select(Nudge.due_at).where(Nudge.state == state, col(Nudge.lease_until).is_(None)).order_by(col(Nudge.due_at)).limit(1)
        ).first()
        for state in ACTIVE
    ]
    free_at = case((col(Nudge.lease_until) > Nudge.due_at, Nudge.lease_until), else_=Nudge.due_at)
    moments.append(session.exec(select(func.min(free_at)).where(_ACTIVE, col(Nudge.lease_until).is_not(None))).one())
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def fire_batch(
    session: Session,
    deps: Deps,
    limit: int,
    fire_one: Callable[[Nudge, Incident | None, list[dict]], bool] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> tuple[list[str], int]:
    """Lock up to `limit` due nudges, fire each (by `fire_one`, else fire_locked) and commit them all at once; the kinds of
    those that spoke, and how many were locked. A crash before the commit leaves every one of them due, none said."""
    batch = lock_due(session, deps.clock.now(), limit)
    spoke: list[str] = []
    dms: list[dict] = []
    for nudge, incident in batch:
        if stopping():
            break  # the rest are unlocked at the commit, for another replica or the next start
        said = fire_one(nudge, incident, dms) if fire_one else fire_locked(session, deps, nudge, incident, dms)
        if said:
            spoke.append(nudge.kind)
    write_dms(session, dms)
    session.commit()
    return spoke, len(batch)


def fire(session: Session, deps: Deps, nudge_id: int, owner: str) -> bool:
    """Fire one nudge leased to `owner` in one transaction: the message, then its next step. Return whether it spoke."""
    # The nudge (locked) and its incident (not locked) in one statement: one round trip fewer for every reminder.
    both = select(Nudge, Incident).outerjoin(Incident, col(Incident.id) == Nudge.incident_id).where(Nudge.id == nudge_id)
    found = session.exec(both.with_for_update(of=Nudge)).one_or_none()
    nudge, incident = found if found is not None else (None, None)
    if nudge is None or nudge.lease_owner != owner or nudge.state not in ACTIVE:
        session.rollback()  # done, snoozed or reclaimed meanwhile: nothing to say
        return False
    dms: list[dict] = []
    spoke = fire_locked(session, deps, nudge, incident, dms)
    write_dms(session, dms)
    session.commit()
    return spoke


def fire_locked(session: Session, deps: Deps, nudge: Nudge, incident: Incident | None, dms: list[dict]) -> bool:
    """Fire a nudge this transaction has locked: the message (its DMs added to `dms`, for write_dms), then its next step,
    its lease cleared; nothing committed. Return whether it spoke."""
    now = deps.clock.now()
    nudge.lease_until, nudge.lease_owner = None, None
    kind, subject = _read(nudge)
    if incident is None or kind is None or subject is None or (incident.phase == "closed" and not kind.after_close):
        nudge.state = "cleared"  # nothing left to remind of, or a row no kind can read: dropped, never a crash
        return False
    config = deps.config
    if kind.scripted:  # a drill inject: on the minute, in the drill room, whatever the hour; no repeat, no ladder
        with speaking(config.language):  # the feature's reads see what the batch wrote before (autoflush)
            scripted.deliver(session, deps, incident, subject, now)  # the inject, or the reaction follow-up's figures
        nudge.attempts, nudge.fired_at, nudge.state = nudge.attempts + 1, now, "fired"
        return True
    # What a reminder reads (its people, its words, its rooms) is no row firing writes: the batch's changes to nudges and
    # the outbox wait for its commit instead of being flushed one reminder at a time, a round trip each.
    with session.no_autoflush:
        people = reminders.resolve_targets(session, config, incident, nudge.target)
        if kind.quiet(incident):
            asleep = {key: end for key in people if (end := quiet_end(config, _zone(config, key), now))}
            if people and len(asleep) == len(people):
                nudge.due_at, nudge.state = min(asleep.values()), "pending"  # delivered at the start of the next working period
                return False
            people = [key for key in people if key not in asleep]  # nobody is woken for it
        with speaking(config.language):
            message = reminders.render(session, config, incident, nudge, kind, subject, now)
        _deliver(session, deps, incident, people, message, now, dms)
        nudge.attempts += 1
        nudge.fired_at = now
        _next_step(session, config, nudge, kind, subject, now)
    return True


def write_dms(session: Session, dms: list[dict]) -> None:
    """Queue the DMs of the reminders fired, in one INSERT without the unit of work's bookkeeping of a row added."""
    if dms:
        session.execute(insert(Outbox), dms)
        session.info["work"] = True  # rows free to claim, as storage.models._note_work notes of rows added: delivery is woken


def _read(nudge: Nudge) -> tuple[Kind | None, Subject | None]:
    """The nudge's kind and typed subject; (None, None) for a kind no longer known or a subject not of its shape."""
    kind = kinds.KINDS.get(nudge.kind)
    if kind is None:
        log.warning("nudge %s has an unknown kind %r: dropped", nudge.id, nudge.kind[:40])
        return None, None
    try:
        return kind, kind.subject.parse(nudge.subject)
    except BadSubject as error:
        log.warning("nudge %s dropped: %s", nudge.id, error)
        return None, None


def _deliver(session: Session, deps: Deps, incident: Incident, people: list[str], message, now: datetime, dms: list[dict]) -> None:
    """DM each target on every platform (added to `dms`); with nobody to DM, post in the incident room."""
    rows = [
        outbox_values(incident.id, platform, DM(message, to=handle), now)
        for key in people
        for platform in deps.platforms
        if (handle := handle_of(deps.config.team.people[key], platform))
    ]
    if rows:
        dms.extend(rows)
    else:
        in_every_room(session, incident.id, now, Post(message))


def _next_step(session: Session, config: Config, nudge: Nudge, kind: Kind, subject: Subject, now: datetime) -> None:
    """Repeat at the nudge's pace, escalate one level when the cap is reached, or stop."""
    if not nudge.repeat_seconds:
        nudge.state = "fired"
        return
    repeat = timedelta(seconds=nudge.repeat_seconds)
    cap = kind.cap or config.nudge_repeat_cap
    if nudge.attempts < cap:
        nudge.due_at, nudge.state = now + repeat, "pending"
        return
    following = _next_level(session, config, nudge, kind, subject)
    if following is None:
        nudge.state = "fired"  # the top of the ladder has heard it as often as anyone
        return
    nudge.state = "escalated"
    session.add(
        Nudge(
            incident_id=nudge.incident_id,
            kind=nudge.kind,
            subject=nudge.subject,
            target=following,
            due_at=now + repeat,
            first_due_at=nudge.first_due_at,
            reason=f"escalated:{nudge.target}",
            created_at=now,
            repeat_seconds=nudge.repeat_seconds,
        )
    )


def _next_level(session: Session, config: Config, nudge: Nudge, kind: Kind, subject: Subject) -> str | None:
    """The next rung of the kind's ladder that reaches someone who has not heard this nudge yet."""
    ladder = [level.format(role=getattr(subject, "role", "")) for level in kind.ladder]
    escalated = nudge.reason.startswith("escalated")
    position = ladder.index(nudge.target) + 1 if escalated and nudge.target in ladder else 0
    incident = session.get(Incident, nudge.incident_id)
    heard = set(reminders.resolve_targets(session, config, incident, nudge.target))
    if person := getattr(subject, "person", None):
        heard.add(person)  # the holder who did not acknowledge
    for level in ladder[position:]:
        if set(reminders.resolve_targets(session, config, incident, level)) - heard:
            return level
    return None


def _zone(config: Config, key: str) -> str:
    return config.team.people[key].timezone or config.timezone


def quiet_end(config: Config, timezone: str, now: datetime) -> datetime | None:
    """The end of the quiet hours that `now` falls in, in a timezone; None outside them."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    start, end, moment = config.quiet_hours.start, config.quiet_hours.end, local.time()
    quiet = (moment >= start or moment < end) if start > end else (start <= moment < end)
    if not quiet:
        return None
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
