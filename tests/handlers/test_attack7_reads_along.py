"""Attack on a8dd5f2: `status` typed in its incident's room reads the card's rows with the incident in one statement on
PostgreSQL (handlers/incident/lookup.py incident_reading). Each test compares the new read with the old one (the incident
by incident_for, the verb reading its own rows) on the same database state, on SQLite and PostgreSQL both."""

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select

import handlers.router as router
from handlers.core.ports import Command, RoomRef, UserRef
from handlers.incident import lookup
from handlers.incident.lookup import incident_for, incident_reading
from storage.db import session
from storage.models import ChecklistItem, Incident, ProcessedEvent, RoleAssignment, Room
from tests.conftest import Chat


def _old(session_, command, target, _reads, _now):
    return incident_for(session_, command, target), None


def _say(chat: Chat, who: str, line: str, room: str | None, thread: str | None = None, event_id=None, acked_once=False, direct=False):
    ref = RoomRef("console", room, thread, direct) if room else None
    with session(chat.engine) as db:
        reply = router.dispatch(db, chat.deps, Command(UserRef("console", who), line, ref, event_id, acked_once))
    return (reply.ok, reply.outcome, reply.message.plain(), reply.echoed, reply.read_only, reply.incident_id, reply.duplicate)


def _both(chat: Chat, monkeypatch, who: str, line: str, room: str | None, thread: str | None = None, direct=False):
    """The reply with the new read, then the reply with the old read, on the same state (the line must change nothing)."""
    new = _say(chat, who, line, room, thread, direct=direct)
    with monkeypatch.context() as patched:
        patched.setattr(router, "incident_reading", _old)
        old = _say(chat, who, line, room, thread, direct=direct)
    return new, old


def _pg(engine) -> bool:
    return engine.url.get_backend_name() == "postgresql"


def test_status_cards_in_rooms_match_the_old_read(any_engine, config, clock, monkeypatch):
    chat = Chat(any_engine, config, clock)
    first, room1 = chat.declare()
    second, room2 = chat.declare(line="declare outage sev3 API errors")
    script = [
        (room1, "alice", "assign comms @bob"),
        (room1, "bob", "ack"),
        (room1, "alice", "assign legal @carol"),
        (room1, "alice", "handoff legal @dave"),  # carol's assignment ended
        (room1, "bob", "draft holding We are looking into failed payments."),
        (room1, "alice", "approve"),
        (room1, "bob", "draft update We found the cause."),  # pending
        (room1, "bob", "inquiry Reuters in 2h Is anyone hurt?"),
        (room1, "bob", "inquiry AP in 10m How many?"),
        (room1, "bob", "claim Batteries explode https://x.example/1"),
        (room1, "alice", "task call the supplier in 30m"),
        (room1, "alice", "sev 1"),
        (room2, "alice", "assign comms @erin"),
        (room2, "erin", "inquiry BBC in 5m Where?"),
        (room2, "erin", "claim Second claim"),
    ]
    did = []
    for room, who, line in script:
        chat.clock.advance(timedelta(minutes=2))
        did.append(_say(chat, who, line, room)[:2])
    assert sum(ok for ok, _ in did) >= 10, did
    for room in (room1, room2):
        new, old = _both(chat, monkeypatch, "carol", "status", room)
        assert new[0] and new == old, (new, old)
    # items due at exactly now (not overdue: due_at < now), and one a microsecond before (overdue)
    now = chat.clock.now()
    with session(chat.engine) as db:
        items = db.exec(select(ChecklistItem).where(ChecklistItem.incident_id == first, ChecklistItem.state == "open")).all()
        assert len(items) >= 2
        items[0].due_at = now
        items[1].due_at = now - timedelta(microseconds=1)
        db.commit()
    for advance in (timedelta(0), timedelta(hours=3)):
        chat.clock.advance(advance)
        for line in ("status", "card"):
            new, old = _both(chat, monkeypatch, "bob", line, room1)
            assert new[0] and new == old, (new, old)
            assert new[2] == _say(chat, "bob", f"#{first} {line}", room1)[2]


def test_no_role_held_and_every_role_ended(any_engine, config, clock, monkeypatch):
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    new, old = _both(chat, monkeypatch, "alice", "status", room)
    assert new[0] and new == old
    with session(chat.engine) as db:
        db.execute(update(RoleAssignment).where(col(RoleAssignment.incident_id) == incident).values(ended_at=chat.clock.now()))
        db.commit()
    new, old = _both(chat, monkeypatch, "alice", "status", room)
    assert new[0] and new == old, (new, old)


def test_drill_closed_stranger_lobby_direct(any_engine, config, clock, monkeypatch):
    chat = Chat(any_engine, config, clock)
    drill = chat.say("alice", "drill product-quality sev2")
    assert drill.ok, drill.message.plain()
    drill_room = chat.room_of(drill.incident_id)
    closed, closed_room = chat.declare(line="declare outage sev3 API errors")
    for line in ("resolve fixed", "close --force done"):
        chat.clock.advance(timedelta(minutes=5))
        _say(chat, "alice", line, closed_room)
    chat.clock.advance(timedelta(minutes=5))
    cases = [
        ("alice", "status", drill_room, None),
        ("alice", "status", closed_room, None),
        ("mallory", "status", closed_room, None),  # a stranger
        ("alice", "status", "lobby", None),  # a room of no incident
        ("alice", "status", None, None),  # no room
        ("alice", f"#{closed} status", drill_room, None),  # named, in another incident's room
        ("alice", "status", drill_room, "42"),  # a topic of the room: not the room
    ]
    for who, line, room, thread in cases:
        new, old = _both(chat, monkeypatch, who, line, room, thread)
        assert new == old, (line, room, thread, new, old)
    # a direct chat whose id is an incident room's: no incident, as before
    new, old = _both(chat, monkeypatch, "alice", "status", drill_room, direct=True)
    assert new == old and not new[0], (new, old)
    with session(chat.engine) as db:
        assert db.get(Incident, closed).phase == "closed"


def test_forum_topics_and_the_main_chat(any_engine, config, clock, monkeypatch):
    chat = Chat(any_engine, config, clock)
    main, room = chat.declare()
    topic, other = chat.declare(line="declare outage sev3 API errors")
    with session(chat.engine) as db:  # the second incident is a topic of the first one's group
        db.execute(update(Room).where(col(Room.incident_id) == topic).values(external_id=room, thread_id="7"))
        db.commit()
    for thread, expected in ((None, main), ("7", topic), ("8", None)):
        for _twice in range(2):  # the statement cache: both variants, each twice
            new, old = _both(chat, monkeypatch, "alice", "status", room, thread)
            assert new == old and new[5] == expected, (thread, new, old)


def test_acked_once_status_writes_no_dedup_key_and_a_redelivery_answers_the_same(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    first = _say(chat, "alice", "status", room, event_id="ev-1", acked_once=True)
    second = _say(chat, "alice", "status", room, event_id="ev-1", acked_once=True)
    assert first[0] and first == second
    with session(chat.engine) as db:
        assert db.get(ProcessedEvent, "ev-1") is None
    third = _say(chat, "alice", "status", room, event_id="ev-2")
    again = _say(chat, "alice", "status", room, event_id="ev-2")
    assert third[2] == first[2] and again[2] == first[2] and again[6]


def test_two_rooms_matching_status_reads_the_incident_every_other_verb_reads(any_engine, config, clock):
    """Nothing constrains two Room rows to differ: every read of a room's incident (incident_for, for every verb, button
    vetting and SQLite; the folded one, for status on PostgreSQL) takes the room of the lowest id. Before the fix the
    first took whichever row the database returned first, and status showed another incident than the other verbs."""
    chat = Chat(any_engine, config, clock)
    first, room = chat.declare()
    second, other = chat.declare(line="declare outage sev3 API errors")
    with session(chat.engine) as db:
        # the second incident's room takes the first one's chat; then the first room row is written again (last on disk)
        db.execute(update(Room).where(col(Room.incident_id) == second).values(external_id=room))
        row = db.exec(select(Room).where(Room.incident_id == first)).one()
        values = {column.key: getattr(row, column.key) for column in Room.__table__.columns}
        db.delete(row)
        db.flush()
        db.execute(insert(Room), values)  # the same row, same id, written again: last in the table and its index
        db.commit()
    shown = {line: _say(chat, "alice", line, room)[5] for line in ("status", "roles", "history", "tasks")}
    assert len(set(shown.values())) == 1, shown


def test_a_verb_whose_reads_has_no_row_still_finds_its_incident(any_engine, config, clock):
    """Verb(reads=) takes any statement on `incident` and `now`; one that returns no row (e.g. the open inquiries) still
    finds the incident (before the fix, an inner join of the two returned no incident: the verb was refused as typed
    outside an incident room)."""
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()

    def no_rows():
        return select(RoleAssignment.role).where(RoleAssignment.incident_id == bindparam("incident"), RoleAssignment.role == "none")

    command = Command(UserRef("console", "alice"), "x", RoomRef("console", room))
    with session(chat.engine) as db:
        found, rows = incident_reading(db, command, None, no_rows, chat.clock.now())
        assert found is not None and found.id == incident
        assert not rows


def test_the_cached_card_statement_is_not_changed_by_folding_it(any_engine, config, clock, monkeypatch):
    chat = Chat(any_engine, config, clock)
    first, room1 = chat.declare()
    second, room2 = chat.declare(line="declare outage sev3 API errors")
    _say(chat, "alice", "inquiry Reuters in 2h Is anyone hurt?", room2)
    lookup._read_along.cache_clear()
    for room, incident in ((room1, first), (room2, second), (room1, first)):
        in_room = _say(chat, "alice", "status", room)
        named = _say(chat, "alice", f"#{incident} status", room)
        assert in_room[0] and in_room[2] == named[2]


def test_a_role_cannot_be_held_twice_so_row_order_cannot_pick_the_holder(any_engine, config, clock):
    """The card keeps the last row of a role (a dict): the folded statement's row order would matter if a role could be
    held twice at once; the schema forbids it (ux_one_holder_per_role), so it cannot."""
    from sqlalchemy.exc import IntegrityError

    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    assert _say(chat, "alice", "assign comms @bob", room)[0]
    with session(chat.engine) as db, pytest.raises(IntegrityError):
        row = {"incident_id": incident, "role": "comms", "person": "carol", "assigned_by": "alice", "assigned_at": chat.clock.now()}
        db.execute(insert(RoleAssignment), row)
        db.flush()


def test_commands_sharing_one_session_read_the_same_cards(any_engine, config, clock, monkeypatch):
    """One session for several commands (expired objects after each commit, the incident held in the identity map)."""
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    ref = RoomRef("console", room)
    lines_ = ["assign comms @bob", "status", "sev 1", "status", "draft holding We look into it.", "status", "STATUS extra words"]
    with session(chat.engine) as db:
        held = db.get(Incident, incident)
        for line in lines_:
            chat.clock.advance(timedelta(minutes=1))
            new = router.dispatch(db, chat.deps, Command(UserRef("console", "alice"), line, ref))
            if new.read_only:
                with monkeypatch.context() as patched:
                    patched.setattr(router, "incident_reading", _old)
                    old = router.dispatch(db, chat.deps, Command(UserRef("console", "alice"), line, ref))
                assert new.ok and new.message.plain() == old.message.plain(), (line, new.message.plain(), old.message.plain())
        assert db.get(Incident, incident) is held and held.severity == "sev1"
