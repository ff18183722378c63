"""Controlling nudges: snooze, quiet hours, `sev`, and firing exactly once across workers.

Incident #1 is product-quality sev1 "Battery overheating", declared by alice at 09:00 Asia/Shanghai (01:00 UTC; minute 0 below):
commander=alice, comms=alice, spokesperson=carol (Europe/London), legal=bob, monitor=dave (America/New_York), liaison=erin,
scribe=dave, exec=bob. Backups: commander→dave, legal→erin. Sev1 clock: first statement 60 min, updates every 30 min, approval
nudge 10 min, review within 3 days. Checklist item 1 (monitor, dave) is due at minute 15. Tests that are not about role
acknowledgement have everybody ack first, so only the nudge under test speaks.
"""

from datetime import timedelta

import pytest

from handlers.nudges import firing
from storage.db import session
from tests.conftest import Chat
from tests.handlers.nudge_timeline import DRAFT, HEAD, Timeline, buttons, declare, nudges_of

# ---- snooze


def _item_1_snooze(chat: Chat, t: Timeline, span: str = "15m") -> str:
    assert [to for to, _text in t.fire(15, "item 1 ")] == ["dave"]
    command = buttons(chat, "dave", "item 1 ")[1 if span == "15m" else 2]
    assert command.endswith(f" {span}")
    return command


def test_the_snooze_button_moves_the_reminder_later(chat, clock):
    room, t = declare(chat, clock)
    command = _item_1_snooze(chat, t)
    nudge_id = command.split()[2]
    reply = chat.say("dave", command, room=None)  # pressed in the DM
    assert reply.ok and reply.message.plain() == f"Reminder {nudge_id} snoozed until 09:30 Beijing time, 2 Mar."
    assert t.fire(29, "item 1 ") == []
    [(to, text)] = t.fire(30, "item 1 ")
    assert to == "dave" and "is overdue by 15 min" in text
    assert t.recipients(60, "item 1 ") == [(60, "dave")]  # repeats continue from there


def test_the_commander_may_snooze_anyones_reminder_but_nobody_else_may(chat, clock):
    room, t = declare(chat, clock)
    command = _item_1_snooze(chat, t, "1h")
    nudge_id = command.split()[2]
    before = chat.snapshot()
    refused = chat.say("carol", command, room)
    assert not refused.ok
    assert refused.message.plain() == f"Reminder {nudge_id} is not yours; only the person reminded or the commander may snooze it."
    assert chat.snapshot() == before
    assert chat.say("alice", command, room).message.plain() == f"Reminder {nudge_id} snoozed until 10:15 Beijing time, 2 Mar."
    assert t.recipients(70, "item 1 ") == []
    assert [to for to, _text in t.fire(75, "item 1 ")] == ["dave"]


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        ("999 15m", "#1 has no reminder 999."),
        ("abc 15m", "#1 has no reminder abc."),
        ("{id} soon", "“soon” is not a duration; use e.g. 15m or 1h."),
        ("{id} 2d", "A reminder can be snoozed for one minute to 24 hours."),
        ("{id}", "Name the reminder (its number) and for how long, e.g. 42 15m."),
    ],
)
def test_a_bad_snooze_is_refused_clearly_and_changes_nothing(chat, clock, words, answer):
    room, t = declare(chat, clock)
    nudge_id = _item_1_snooze(chat, t).split()[2]
    before = chat.snapshot()
    reply = chat.say("dave", f"snooze {words.format(id=nudge_id)}", room)
    assert not reply.ok
    assert answer in reply.message.plain()
    assert chat.snapshot() == before


def test_a_done_reminder_cannot_be_snoozed(chat, clock):
    room, t = declare(chat, clock)
    command = _item_1_snooze(chat, t)
    assert chat.say("dave", "done 1", room).ok
    before = chat.snapshot()
    reply = chat.say("dave", command, room)
    assert not reply.ok and reply.message.plain() == f"Reminder {command.split()[2]} is no longer waiting: nothing to snooze."
    assert chat.snapshot() == before


def test_the_snooze_button_on_an_ack_reminder_works(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "carol", "dave", "erin"))
    t.fire(10)
    command = buttons(chat, "bob", "Legal counsel")[1]
    assert chat.say("bob", command, room).ok
    assert t.fire(20, "Legal counsel") == []  # the commander hears later, not now


# ---- quiet hours


def test_a_sev3_reminder_due_at_night_waits_for_8am_in_the_targets_timezone(chat, clock):
    room, t = declare(chat, clock, severity="sev3", ack=("alice", "bob"))  # carol is spokesperson; 01:10 in London
    assert t.fire(10, "Spokesperson") == []
    assert t.fire(7 * 60 - 1, "Spokesperson") == []  # 07:59 in London
    assert t.fire(7 * 60, "Spokesperson") == [
        ("carol", HEAD + "you were given Spokesperson and have not accepted it yet (6 hr 50 min late). Accept it: /crisis ack")
    ]


def test_a_sev1_reminder_fires_at_night(chat, clock):
    room, t = declare(chat, clock, ack=("alice", "bob", "dave", "erin"))
    assert [to for to, _text in t.fire(10, "Spokesperson")] == ["carol"]  # 01:10 in London


def test_a_sev3_reminder_to_two_people_waits_for_the_one_asleep(chat, clock):
    room, t = declare(chat, clock, severity="sev3", ack=("alice", "bob", "carol"))
    assert chat.say("alice", "assign comms @carol", room).ok
    assert chat.say("carol", "ack", room).ok
    heard = t.fire(4 * 60, "status update")  # 13:00 in Shanghai, 04:00 in London
    assert [to for to, _text in heard] == ["alice"]


# ---- severity change


def test_sev2_to_sev1_brings_the_first_statement_deadline_and_the_next_update_forward(chat, clock):
    room, t = declare(chat, clock, severity="sev2")
    t.at(10)
    reply = chat.say("alice", "sev 1", room)
    assert reply.ok and "Next update due 09:30 Beijing time, 2 Mar." in reply.message.plain()
    assert t.fire(29, "status update") == []
    assert [to for to, _text in t.fire(30, "status update")] == ["alice"]
    assert t.fire(44, "approved statement") == []
    [(_to, text)] = t.fire(45, "approved statement")
    assert "the first approved statement is due at 10:00 Beijing time, 2 Mar, in 15 min" in text
    assert [to for to, _text in t.fire(60, "approved statement")] == ["alice"]


def test_sev1_to_sev3_puts_the_deadline_and_the_update_back(chat, clock):
    room, t = declare(chat, clock)
    t.at(10)
    assert "Next update due 13:00 Beijing time, 2 Mar." in chat.say("alice", "sev 3", room).message.plain()
    assert t.recipients(3 * 60 + 40, "approved statement") == []
    assert t.recipients(3 * 60 + 40, "status update") == []
    assert [to for to, _text in t.fire(3 * 60 + 45, "approved statement")] == ["alice"]


def test_sev2_to_sev1_brings_a_pending_approval_reminder_forward(chat, clock):
    room, t = declare(chat, clock, severity="sev2")
    assert chat.say("carol", f"draft {DRAFT}", room).ok  # sev2: reminders at minute 20
    t.at(5)
    assert chat.say("alice", "sev 1", room).ok  # sev1: 10 minutes
    assert [to for to, _text in t.fire(10, "for your approval")] == ["bob", "alice"]


# ---- once, and only once


def test_each_reminder_fires_once_when_fired_twice_at_the_same_moment(chat, clock):
    room, t = declare(chat, clock, ack=())
    first = t.fire(10)
    assert len(first) == 8  # one ack reminder per role held
    assert chat.fire() == []
    assert t.fire(10) == []


def test_two_workers_never_fire_the_same_reminder(chat, clock):
    room, t = declare(chat, clock, ack=())
    t.at(10)
    with session(chat.engine) as db:
        mine = firing.claim(db, clock.now(), "w1")
    with session(chat.engine) as db:
        assert firing.claim(db, clock.now(), "w2") == []  # leased to w1
    for nudge_id in mine:
        with session(chat.engine) as db:
            assert firing.fire(db, chat.deps, nudge_id, "w2") is False  # not w2's to fire
    sent = len(chat.outbox())
    for nudge_id in mine:
        with session(chat.engine) as db:
            assert firing.fire(db, chat.deps, nudge_id, "w1") is True
    assert len(chat.outbox()) == sent + 8
    assert chat.fire() == []  # any worker: nothing is left to fire
    assert [n.attempts for n in nudges_of(chat, "role_ack") if n.target.startswith("person:")] == [1] * 8


def test_a_reminder_claimed_by_a_worker_that_died_is_fired_once_by_the_other_after_the_lease(chat, clock):
    room, t = declare(chat, clock, ack=())
    t.at(10)
    with session(chat.engine) as db:
        lost = firing.claim(db, clock.now(), "w1")  # w1 dies before firing them
    assert len(lost) == 8
    assert chat.fire() == []  # another worker: leased to w1
    clock.advance(firing.LEASE + timedelta(seconds=1))
    assert len(chat.fire()) == 8
    for nudge_id in lost:
        with session(chat.engine) as db:
            assert firing.fire(db, chat.deps, nudge_id, "w1") is False  # w1 wakes up late: nothing said twice
    assert chat.fire() == []
