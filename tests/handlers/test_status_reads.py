"""`status` typed in its incident's room reads the card's counts in the incident's own statement on PostgreSQL (one round
trip less while the person waits), and shows the same card as when the incident is named."""

from datetime import timedelta

from sqlalchemy import event

import handlers.router as router
from handlers.core.ports import Command, RoomRef, UserRef
from storage.db import session
from tests.conftest import Chat


def _card(chat: Chat, line: str, room: str) -> str:
    with session(chat.engine) as db:
        reply = router.dispatch(db, chat.deps, Command(UserRef("console", "alice"), line, RoomRef("console", room)))
    assert reply.ok, reply.message.plain()
    return reply.message.plain()


def test_status_in_the_room_shows_the_card_the_named_incident_shows(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    chat.declare(line="declare outage sev3 API errors")  # another incident: its counts must not leak in
    for line in ("assign comms @bob", "draft We are looking into failed payments.", "sev 1"):
        chat.clock.advance(timedelta(minutes=3))
        chat.say("alice", line, room=room)
    chat.clock.advance(timedelta(hours=2))  # items overdue by now
    in_room = _card(chat, "status", room)
    assert "Checklist:" in in_room and "overdue" in in_room
    assert in_room == _card(chat, f"#{incident} status", room)


def test_on_postgresql_status_in_its_room_reads_the_card_with_the_incident(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incident, room = chat.declare()
    selects: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    counted = {}
    event.listen(any_engine, "before_cursor_execute", seen)
    try:
        # named: the incident by its id and whether this is its room (two statements), then the card by itself
        for line in ("status", f"#{incident} status"):
            selects.clear()
            _card(chat, line, room)
            counted[line] = len(selects)
    finally:
        event.remove(any_engine, "before_cursor_execute", seen)
    # in its room: one statement for the incident (SQLite: the card after it: no round trip to save, and two are cheaper),
    # none for the card on PostgreSQL
    fewer = 1 if any_engine.url.get_backend_name() == "sqlite" else 2
    assert counted["status"] == counted[f"#{incident} status"] - fewer, counted
