"""A required stakeholder list not told by its deadline (PRODUCT.md §10, §5): the liaison and the commander are reminded,
then the executive sponsor; telling the list stops it. Fake clock: #1 product-quality sev1 declared at 01:00 UTC
(09:00 in the team's zone); regulators are due within 1 h at sev1, 4 h at sev2."""

from datetime import timedelta

import pytest

from handlers.desk import stakeholders
from tests.handlers.desk_chat import approved_incident, fire
from tests.handlers.nudge_timeline import buttons

ABOUT = "Regulators list"


@pytest.fixture(autouse=True)
def headline(monkeypatch):
    monkeypatch.setattr(stakeholders, "mail_subject", lambda statement, config: "PB-20")


def at(clock, start, minutes: int) -> None:
    clock._now = start + timedelta(minutes=minutes)


def heard(chat) -> list[tuple[str, str]]:
    return [(to, text) for to, text in fire(chat) if ABOUT in text]


def test_the_liaison_and_the_commander_hear_it_at_the_deadline_then_the_executive_sponsor(chat, clock):
    start = clock.now()
    approved_incident(chat, clock)
    at(clock, start, 59)
    assert heard(chat) == []
    at(clock, start, 60)
    said = "⏰ #1 Battery overheating — the Regulators list had to be told by 10:00 Beijing time, 2 Mar (less than a minute late). "
    said += "Clear it: /crisis notify regulators or /crisis notified regulators <contact>"
    assert heard(chat) == [("erin", said), ("alice", said)]  # the liaison and the commander
    at(clock, start, 75)
    assert [to for to, _text in heard(chat)] == ["erin", "alice"]
    at(clock, start, 90)
    assert heard(chat) == [
        (
            "bob",
            "⏰ #1 Battery overheating — the Regulators list, due to be told by 10:00 Beijing time, 2 Mar, "
            "has not been told (30 min late); the people responsible were reminded. You may want to step in.",
        )
    ]


def test_its_button_runs_notify_and_notifying_stops_it(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)
    at(clock, start, 60)
    assert heard(chat)
    assert buttons(chat, "erin", ABOUT)[0] == "#1 notify regulators"  # then the snooze buttons every reminder has
    at(clock, start, 70)
    assert chat.say("erin", "notify regulators", room).ok
    for minute in (75, 90, 120):
        at(clock, start, minute)
        assert heard(chat) == []


def test_a_recorded_call_tells_the_list_too(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)
    at(clock, start, 30)
    assert chat.say("alice", "notified regulators Provincial Told by phone", room).ok
    for minute in (60, 90):
        at(clock, start, minute)
        assert heard(chat) == []


def test_a_list_the_playbook_does_not_require_never_reminds(chat, clock):
    start = clock.now()
    approved_incident(chat, clock, line="declare outage sev1 Checkout down")
    at(clock, start, 24 * 60)
    assert heard(chat) == []


def test_a_new_severity_moves_the_deadline(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)
    assert chat.say("alice", "sev 2", room).ok  # regulators: 4 h at sev2
    at(clock, start, 60)
    assert heard(chat) == []
    at(clock, start, 240)
    assert [to for to, _text in heard(chat)] == ["erin", "alice"]
    assert "due 13:00 Beijing time, 2 Mar, less than a minute left" in chat.say("dave", "stakeholders", room).message.plain()


def test_resolving_stops_it_and_reopening_brings_it_back_while_the_list_is_untold(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)
    at(clock, start, 20)
    assert chat.say("alice", "resolve Contained", room).ok
    at(clock, start, 70)
    assert heard(chat) == []
    assert chat.say("alice", "reopen", room).ok
    assert [to for to, _text in heard(chat)] == ["erin", "alice"]  # already past its deadline: at once


def test_the_shipped_drill_rehearses_the_regulator_deadline_and_the_journalists_call(chat, clock):
    start = clock.now()
    _incident, room = chat.declare(line="drill product-quality")  # power-bank-overheating, sev2: regulators due in 4 h
    at(clock, start, 25)
    injects = [text for _to, text in fire(chat) if "Caixin" in text]
    assert injects, "the journalist's call arrives at 25 min"
    assert chat.say("dave", "inquiry Caixin in 45m How many complaints, is lot 2311 affected, will you recall it?", room).ok
    at(clock, start, 70)
    assert [to for to, text in fire(chat) if "press inquiry Q1 from Caixin" in text] == ["carol"]  # the spokesperson
    at(clock, start, 240)
    assert [to for to, _text in heard(chat)] == ["erin", "alice"]  # the liaison and the commander
    notified = chat.say("alice", "notified regulators provincial Rehearsed the call", room)
    assert notified.ok
    at(clock, start, 270)
    assert heard(chat) == []
