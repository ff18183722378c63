"""A nudge kind's record is the one place its pace, cap, ladder and quiet-hours rule live; rows no kind can read are dropped.

Incident #1 is product-quality sev1 "Battery overheating", declared by alice at 09:00 Asia/Shanghai (01:00 UTC; minute 0 below),
everybody acknowledged: commander=alice, spokesperson=carol (Europe/London, asleep at 01:00 UTC), exec=bob.
"""

import dataclasses
from datetime import timedelta

import pytest

from handlers.catalog import registry
from handlers.nudges import kinds, outside, record, saying, words
from handlers.nudges import messages as reminders
from handlers.nudges import schedule as nudges
from handlers.nudges.subjects import Item, Subject
from handlers.text.markup import fmt
from storage.db import session
from storage.models import Incident, Nudge
from tests.handlers.nudge_timeline import DRAFT, declare


def _says(late: saying.Late) -> saying.Said:
    return fmt("test reminder {n} is {late} late", n=str(late.subject.n), late=late.late), [late.button("Done")]


def _kind(**fields) -> record.Kind:
    return record.Kind(**{"name": "test_kind", "subject": Item, "clears": "done {n}", "quiet": record.never, **fields})


@pytest.fixture
def register(monkeypatch):
    """Register a kind for one test, the way kinds.py lists its records and messages.py its words."""

    def add(kind: record.Kind) -> record.Kind:
        monkeypatch.setitem(kinds.KINDS, kind.name, kind)
        monkeypatch.setitem(reminders.SAYS, *saying.entry(kind, _says))
        return kind

    return add


def _promise(chat, kind: record.Kind, subject, target: str = "person:carol", minutes: int = 5) -> None:
    now = chat.clock.now()
    with session(chat.engine) as db:
        nudges.schedule(db, 1, kind, target, now + timedelta(minutes=minutes), now, subject=subject)
        db.commit()


@pytest.mark.parametrize(
    ("fields", "heard"),
    [
        ({"repeat": timedelta(minutes=7), "cap": 2, "ladder": ("role:exec",)}, [(5, "carol"), (12, "carol"), (19, "bob"), (26, "bob")]),
        ({"repeat": timedelta(minutes=11), "cap": 1, "ladder": ("role:exec",)}, [(5, "carol"), (16, "bob")]),
        (
            {"repeat": timedelta(minutes=11), "cap": 1, "ladder": ("role:commander", "role:exec")},
            [(5, "carol"), (16, "alice"), (27, "bob")],
        ),
        ({"repeat": None, "cap": 1, "ladder": ("role:exec",)}, [(5, "carol")]),  # no pace: it speaks once
    ],
)
def test_a_kind_registered_in_a_fixture_fires_at_its_own_records_pace_cap_and_ladder(chat, clock, register, fields, heard):
    room, t = declare(chat, clock)
    kind = register(_kind(**fields))
    _promise(chat, kind, Item(1))
    assert t.recipients(45, "test reminder 1 ", step=1) == heard


def test_a_kinds_quiet_rule_is_its_records(chat, clock, register):
    room, t = declare(chat, clock)
    _promise(chat, register(_kind(name="night_kind", quiet=record.always, repeat=timedelta(minutes=7))), Item(1))
    _promise(chat, register(_kind(name="day_kind", quiet=record.never, repeat=timedelta(minutes=7))), Item(2))
    heard = t.recipients(20, "test reminder", step=1)
    assert heard == [(5, "carol"), (12, "carol"), (19, "carol")]  # only item 2's: carol sleeps in London and item 1 waits
    assert all("test reminder 2 " in text for _to, text in t.fire(21, "test reminder"))


def test_the_buttons_run_the_kinds_clearing_command(chat, clock, register):
    room, t = declare(chat, clock)
    _promise(chat, register(_kind(clears="done {n}")), Item(1))
    t.at(5)
    [(to, message)] = [(to, m) for to, m in chat.fire() if "test reminder" in m.plain()]
    assert to == "carol" and message.buttons[0].command == "#1 done 1"
    assert chat.say("dave", "done 1", room).ok  # dave owns item 1: doing it clears the kind's reminder too
    assert t.recipients(30, "test reminder", step=1) == []


def test_every_kind_that_speaks_has_its_words_and_no_words_name_a_kind_that_is_not_there():
    spoken = {name for name, kind in kinds.KINDS.items() if not kind.scripted}
    assert set(reminders.SAYS) == spoken
    assert not set(words.WORDS) & set(outside.WORDS)  # one kind, one place for its words


def _sample(shape: type[Subject]) -> Subject:
    """A subject of any shape, on the starter team (a kind added later needs no entry here)."""
    values = {}
    for field in dataclasses.fields(shape):
        choices = shape.choices.get(field.name)
        values[field.name] = choices[-1] if choices else 1 if field.type is int else "legal"
    return shape(**values)


@pytest.mark.parametrize("kind", list(kinds.KINDS.values()), ids=list(kinds.KINDS))
def test_every_kind_is_cleared_by_a_verb_the_grammar_knows_and_its_message_names_that_command(chat, clock, kind):
    assert kind.clears.split()[0] in registry().verbs
    if kind.scripted:
        return  # a drill inject: its feature writes what it says (`answer i<n>`, tested with the drills)
    declare(chat, clock)
    subject = _sample(kind.subject)
    with session(chat.engine) as db:
        nudge = Nudge(incident_id=1, kind=kind.name, subject=str(subject), target="person:bob", due_at=clock.now(), created_at=clock.now())
        message = reminders.render(db, chat.config, db.get(Incident, 1), nudge, kind, subject, clock.now())
    assert f"/crisis {kind.clearing(subject)}" in message.plain()


@pytest.mark.parametrize(
    ("kind", "stored"), [("task_overdue", "x3"), ("approval_pending", "vX:legal"), ("role_ack", "legal"), ("no_such_kind", "")]
)
def test_a_row_no_kind_can_read_is_dropped_without_a_crash_and_the_others_still_fire(chat, clock, caplog, kind, stored):
    room, t = declare(chat, clock)
    with session(chat.engine) as db:
        db.add(Nudge(incident_id=1, kind=kind, subject=stored, target="person:carol", due_at=clock.now(), created_at=clock.now()))
        db.commit()
    heard = t.fire(15)
    assert [to for to, text in heard if "item 1 " in text] == ["dave"]  # the good reminders are not held up by it
    assert "carol" not in [to for to, _text in heard + t.fire(240)]  # carol, whom only the unreadable row named, hears nothing
    assert "dropped" in caplog.text


def test_a_malformed_approval_row_does_not_stop_an_approval(chat, clock):
    room, t = declare(chat, clock)
    with session(chat.engine) as db:
        db.add(
            Nudge(
                incident_id=1, kind="approval_pending", subject="vX:legal", target="role:legal", due_at=clock.now(), created_at=clock.now()
            )
        )
        db.commit()
    assert chat.say("carol", f"draft {DRAFT}", room).ok  # clearing older versions' reminders skips the row it cannot read
    assert chat.say("bob", "approve v1", room).ok
    assert "is now the approved line" in chat.say("alice", "approve v1", room).message.plain()
    assert t.recipients(60, "v1") == []
