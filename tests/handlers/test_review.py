"""The review: lessons, follow-up actions tracked until done (after close too), and close gated on a review.

Incident #1 is product-quality sev2 declared by alice (commander) at 09:00 Asia/Shanghai; erin holds liaison.
"""

from datetime import timedelta

from sqlmodel import select

from handlers.core.effects import DM
from storage.db import session
from storage.models import FollowUp, Lesson


def resolved(chat) -> str:
    room = chat.declare()[1]
    assert chat.say("alice", "resolve Stop-sale complete", room).ok
    return room


def test_lessons_are_recorded_as_went_well_or_to_improve(chat):
    room = resolved(chat)
    assert "(went well)" in chat.say("dave", "lesson + Monitoring caught it early", room).message.plain()
    assert "(to improve)" in chat.say("carol", "lesson - The first draft speculated", room).message.plain()
    assert not chat.say("carol", "lesson", room).ok
    with session(chat.engine) as db:
        assert [(x.kind, x.text) for x in db.exec(select(Lesson).order_by(Lesson.id))] == [
            ("went_well", "Monitoring caught it early"),
            ("to_improve", "The first draft speculated"),
        ]


def test_close_waits_for_a_lesson_unless_forced_with_a_reason(chat):
    room = resolved(chat)
    before = chat.snapshot()
    refused = chat.say("alice", "close", room)
    assert not refused.ok and "The review of #1 is not complete: no lesson yet." in refused.message.plain()
    assert "/crisis close --force <reason>" in refused.message.plain()
    assert chat.snapshot() == before
    assert chat.say("alice", "close --force Reviewed with the board offline", room).ok


def test_an_action_has_one_owner_and_a_due_time_and_its_owner_is_told(chat):
    room = resolved(chat)
    reply = chat.say("alice", "action Add a temperature test to incoming inspection @erin due in 3d", room)
    assert reply.ok and reply.message.plain() == "Action A1 for Erin Liu, due 09:00 Beijing time, 5 Mar."
    assert chat.fire() == []  # nothing is due yet
    told = [dm.message for dm in chat.effects(DM) if dm.to == "erin" and "follow-up action" in dm.message.plain()]
    assert len(told) == 1 and "#1 done a1" in [button.command for button in told[0].buttons]
    dated = chat.say("alice", "action Brief retail partners @carol due 2026-03-10", room)
    assert dated.message.plain() == "Action A2 for Carol Wang, due 18:00 Beijing time, 10 Mar."
    listing = chat.say("bob", "actions", room).message.plain()
    assert "☐ A1 Add a temperature test to incoming inspection · Erin Liu · 09:00 Beijing time, 5 Mar" in listing
    before = chat.snapshot()
    for line, problem in {
        "action Do it": "Name exactly one owner, as @name.",
        "action Do it @erin @carol": "Name exactly one owner, as @name.",
        "action Do it @erin due soon": "Give the due date as YYYY-MM-DD or as `in 3d`.",
        "action @erin": "Say what is to be done.",
    }.items():
        refused = chat.say("alice", line, room)
        assert not refused.ok and problem.replace("`", "") in refused.message.plain(), line
    assert chat.snapshot() == before


def test_an_overdue_action_reminds_its_owner_even_after_close_until_done(chat, clock):
    room = resolved(chat)
    chat.say("alice", "action Add a temperature test @erin due in 2d", room)
    chat.say("alice", "lesson - Test batteries on arrival", room)
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    clock.advance(timedelta(days=2))  # 09:00 in Shanghai: erin is awake
    [(to, message)] = chat.fire()
    assert to == "erin"
    assert "follow-up action A1 “Add a temperature test” is less than a minute late. Clear it: /crisis done a1" in message.plain()
    assert [b.command for b in message.buttons][0] == "#1 done a1"
    assert not chat.say("erin", "#1 task More", "lobby").ok  # the incident itself is closed…
    assert chat.say("erin", "#1 done a1", "lobby").ok  # …but its actions are tracked until done
    clock.advance(timedelta(days=1))
    assert chat.fire() == []
    with session(chat.engine) as db:
        assert db.exec(select(FollowUp.state)).one() == "done"
    assert not chat.say("erin", "#1 done a1", "lobby").ok  # once
    assert not chat.say("erin", "#1 done 1", "lobby").ok  # checklist items stay closed
