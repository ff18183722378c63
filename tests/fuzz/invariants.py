"""What must hold in the database after any input whatsoever: one approved line, no orphans, nothing half-written."""

from collections import Counter

from sqlalchemy import Engine, event, func, or_, text
from sqlmodel import Session, SQLModel, select

from bot.outbox.effects import DELIVERIES, read
from handlers.core.effects import DM, Edit, OpenRoom, Publish
from handlers.text.markup import Message
from storage.models import (
    Approval,
    ChecklistItem,
    Incident,
    Outbox,
    ProcessedEvent,
    Publication,
    RoleAssignment,
    Room,
    Signal,
    Statement,
    TimelineEvent,
)


def check(session: Session, config=None, outbox_after: int = 0, replies_read: set[str] | None = None) -> None:
    """Raise AssertionError naming every broken invariant (pass the team config to check people and roles too).

    Payloads and stored replies are written once: a caller that checked the outbox up to some id may pass it, and a set
    to remember the replies read, so that each is read back once (a run that piles up state stays linear).
    """
    problems = [*_orphans(session), *_line(session), *_roles(session, config), *_incidents(session), *_outbox(session, outbox_after)]
    problems += [*_numbering(session), *_replies(session, replies_read), *_publications(session), *_signatures(session, config)]
    assert not problems, "database invariants broken:\n" + "\n".join(problems[:30])


READS = {"SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}  # statements that change no row


class Writes:
    """Whether anything may have been written to an engine since the last look. The invariants read the database only:
    on one that nothing wrote to since they last held, they hold again, so a fuzz example that only read (a refusal, a
    status) skips the check. Any statement but a SELECT, a PRAGMA or transaction control counts as a write, even one
    that changed no row."""

    def __init__(self, engine: Engine):
        self.seen = True
        event.listen(engine, "before_cursor_execute", self._statement)

    def _statement(self, _connection, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() not in READS:
            self.seen = True

    def since_last_look(self) -> bool:
        """Whether a write may have happened since the last call (True at the first)."""
        seen, self.seen = self.seen, False
        return seen


def last_outbox_id(session: Session) -> int:
    """The newest outbox row's id (0 when empty): pass it as `outbox_after` to the next check."""
    return session.exec(select(func.max(Outbox.id))).one() or 0


def _orphans(session: Session) -> list[str]:
    """Every foreign key of every table (those added later too) points at an existing row: one query for all of them."""
    counts = [
        f"SELECT count(*) FROM {table.name} c WHERE c.{fk.parent.name} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {fk.column.table.name} p WHERE p.{fk.column.name} = c.{fk.parent.name})"
        for table in SQLModel.metadata.sorted_tables
        for fk in table.foreign_keys
    ]
    keys = [(table.name, fk.parent.name, fk.column.table.name) for table in SQLModel.metadata.sorted_tables for fk in table.foreign_keys]
    found_counts = session.exec(text("SELECT " + ", ".join(f"({count})" for count in counts))).one() if counts else ()
    return [
        f"{count} {table} row(s) whose {child} points at no {parent}"
        for (table, child, parent), count in zip(keys, found_counts, strict=True)
        if count
    ]


def _line(session: Session) -> list[str]:
    """At most one current approved version per incident; versions numbered 1..n; a decided version says by whom."""
    found = []
    approved = Counter(session.exec(select(Statement.incident_id).where(Statement.state == "approved")).all())
    found += [f"incident #{i} has {n} approved versions" for i, n in approved.items() if n > 1]
    versions: dict[int, list[int]] = {}
    for incident_id, version, state, decided_by in session.exec(
        select(Statement.incident_id, Statement.version, Statement.state, Statement.decided_by)
    ):
        versions.setdefault(incident_id, []).append(version)
        if state not in ("pending", "approved", "superseded", "rejected"):
            found.append(f"incident #{incident_id} v{version} is in an unknown state {state!r}")
        if state in ("approved", "rejected") and not decided_by:
            found.append(f"incident #{incident_id} v{version} is {state} by nobody")
    for incident_id, numbers in versions.items():
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            found.append(f"incident #{incident_id} has versions {sorted(numbers)}")
    return found


def _roles(session: Session, config) -> list[str]:
    """One current holder per role; holders and roles are the team model's."""
    found = []
    current = Counter(session.exec(select(RoleAssignment.incident_id, RoleAssignment.role).where(RoleAssignment.ended_at.is_(None))).all())
    found += [f"incident #{i} role {r} has {n} current holders" for (i, r), n in current.items() if n > 1]
    if config is not None:
        for incident_id, role, person in session.exec(select(RoleAssignment.incident_id, RoleAssignment.role, RoleAssignment.person)):
            if role not in config.team.roles or person not in config.team.people:
                found.append(f"incident #{incident_id}: {person!r} holds {role!r}, not in the team model")
    return found


def _incidents(session: Session) -> list[str]:
    """Every incident was written whole: its declaration on the timeline, a room per platform, each room being opened."""
    found = []
    declared = set(session.exec(select(TimelineEvent.incident_id).where(TimelineEvent.kind == "declared")).all())
    rooms = Counter(session.exec(select(Room.incident_id)).all())
    openings = set(session.exec(select(Outbox.incident_id, Outbox.platform).where(Outbox.kind == OpenRoom.kind)).all())
    for incident_id, phase in session.exec(select(Incident.id, Incident.phase)):
        if incident_id not in declared:
            found.append(f"incident #{incident_id} has no 'declared' timeline event")
        if not rooms[incident_id]:
            found.append(f"incident #{incident_id} has no room")
        if phase not in ("detected", "assessing", "responding", "recovering", "resolved", "closed"):
            found.append(f"incident #{incident_id} is in an unknown phase {phase!r}")
    for incident_id, platform in session.exec(select(Room.incident_id, Room.platform)):
        if (incident_id, platform) not in openings:
            found.append(f"the {platform} room of incident #{incident_id} was never opened (no open_room effect)")
    return found


def _outbox(session: Session, after: int) -> list[str]:
    """Every queued effect can be read back by the delivery worker."""
    found = []
    # A row's state changes as it is delivered, so every row's is checked each time (in SQL); its payload never changes.
    odd = or_(Outbox.state.is_(None), Outbox.state.not_in(("pending", "sent", "failed")))
    for row_id, kind, state in session.exec(select(Outbox.id, Outbox.kind, Outbox.state).where(odd)):
        found.append(f"outbox {row_id} ({kind}): unknown state {state!r}")
    for row in session.exec(select(Outbox).where(Outbox.id > after)):
        where = f"outbox {row.id} ({row.kind})"
        payload = row.payload
        if not isinstance(payload, dict):
            found.append(f"{where}: payload is not an object")
            continue
        try:
            effect = read(row, DELIVERIES)  # an unknown kind, a missing field, a message that cannot be decoded
            if hasattr(effect, "message"):
                effect.message.plain()
        except Exception as error:  # noqa: BLE001  (any failure is the finding)
            found.append(f"{where}: cannot be read back ({error})")
            continue
        if isinstance(effect, Publish) and session.get(Publication, effect.publication_id or -1) is None:
            found.append(f"{where}: publishes an unknown publication {effect.publication_id!r}")
        if isinstance(effect, Edit) and session.get(Outbox, effect.ref or -1) is None:
            found.append(f"{where}: edits an unknown message {effect.ref!r}")
        if isinstance(effect, DM | Publish) and not effect.to:
            found.append(f"{where}: has nobody to send to")
    for signal in session.exec(select(Signal)):
        missing = [post for post in signal.posts if session.get(Outbox, post) is None]
        if missing:
            found.append(f"signal {signal.id}: triage posts {missing} are not in the outbox")
    return found


def _numbering(session: Session) -> list[str]:
    """Checklist numbers are within what the incident handed out."""
    found = []
    last = dict(session.exec(select(Incident.id, Incident.last_task_number)).all())
    for incident_id, number in session.exec(select(ChecklistItem.incident_id, ChecklistItem.number)):
        if not 1 <= number <= last.get(incident_id, 0):
            found.append(f"incident #{incident_id}: checklist item {number} beyond the last number handed out ({last.get(incident_id)})")
    return found


def _replies(session: Session, read_before: set[str] | None) -> list[str]:
    """A redelivered command gets its stored reply back: that reply must still read."""
    found, query = [], select(ProcessedEvent.key, ProcessedEvent.reply)
    if read_before is not None:
        query = query.where(ProcessedEvent.key.in_([key for key in session.exec(select(ProcessedEvent.key)) if key not in read_before]))
    for key, reply in session.exec(query):
        if read_before is not None:
            read_before.add(key)
        try:
            Message.from_json(reply["message"]).plain()
            assert isinstance(reply["ok"], bool)
        except Exception as error:  # noqa: BLE001
            found.append(f"stored reply of {key!r} cannot be decoded ({error!r})")
    return found


def _publications(session: Session) -> list[str]:
    """A publication belongs to its statement's incident."""
    rows = session.exec(
        select(Publication.id, Publication.incident_id, Statement.incident_id).join(Statement, Statement.id == Publication.statement_id)
    )
    return [f"publication {p} is filed under #{a} but its version is of #{b}" for p, a, b in rows if a != b]


def _signatures(session: Session, config) -> list[str]:
    """The author never signs their own version; four eyes: one person signs one role of a version (unless opted out)."""
    found = []
    for statement, role, person in session.exec(
        select(Statement, Approval.role, Approval.person).join(Approval, Approval.statement_id == Statement.id)
    ):
        if person == statement.author:
            found.append(f"incident #{statement.incident_id} v{statement.version}: its author {person!r} signed it as {role!r}")
    if config is None or config.approvals.one_person_many_roles:
        return found
    signed = Counter(session.exec(select(Approval.statement_id, Approval.person)).all())
    found += [f"statement {s}: {p!r} signed {n} roles (four eyes)" for (s, p), n in signed.items() if n > 1]
    return found
