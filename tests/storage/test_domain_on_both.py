"""The core flow runs the same on SQLite and PostgreSQL."""

from sqlmodel import select

from storage.db import session
from storage.models import ChecklistItem, Incident, ProcessedEvent
from tests.conftest import Chat


def test_declare_work_and_close_on_each_database(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    incident_id, room = chat.declare()
    for who, line in [
        ("bob", "ack"),
        ("dave", "done 1"),
        ("alice", "task Brief the call centre @carol in 30m"),
        ("alice", "resolve"),
        ("alice", "lesson + The checklist kept everyone on track"),
        ("alice", "close --force The open items move to the recall plan"),
    ]:
        assert chat.say(who, line, room).ok, line
    with session(any_engine) as db:
        assert db.get(Incident, incident_id).phase == "closed"
        assert db.exec(select(ChecklistItem).where(ChecklistItem.number == 15)).one().owner_person == "carol"


def test_dedup_keys_hold_on_each_database(any_engine, config, clock):
    chat = Chat(any_engine, config, clock)
    for _ in range(3):
        chat.say("alice", "declare outage sev3 API errors", event_id="telegram:update:42")
    with session(any_engine) as db:
        assert len(db.exec(select(Incident)).all()) == 1
        assert db.get(ProcessedEvent, "telegram:update:42") is not None
