"""A new severity or a reopen keeps each claim and stakeholder reminder on the rung it reached (it used to start again at
the first rung, as if nobody had been told yet), and a refused stakeholder e-mail brings the list's deadline back.

Incident #1 is product-quality, everybody acknowledged: commander=alice, comms=alice, liaison=erin, exec=bob. A wide
false claim: alice hears it at its deadline and 15 min later, then bob (the executive sponsor) every 15 min."""

from datetime import timedelta

import pytest

from bot.outbox.mail import Refused
from bot.outbox.worker import Deliverer
from handlers.desk import stakeholders
from tests.handlers.desk_chat import approved_incident, fire
from tests.handlers.nudge_timeline import declare

CLAIM = "claim C1"
REGULATORS = "Regulators list"


@pytest.fixture(autouse=True)
def headline(monkeypatch):
    monkeypatch.setattr(stakeholders, "mail_subject", lambda statement, config: "PB-20")


def at(clock, start, minutes: int) -> None:
    clock._now = start + timedelta(minutes=minutes)


def heard(chat, about: str) -> list[str]:
    return [to for to, text in fire(chat) if about in text]


def claim_reaches_the_sponsor(chat, clock):
    """A sev1 claim at minute 2, its deadline at 32: alice at 32 and 47, bob at 62; the room and the timeline."""
    room, t = declare(chat, clock, "sev1")
    t.at(2)
    assert chat.say("dave", "claim PB-20 power banks explode reach 12000", room).ok
    assert chat.say("bob", "verify c1 false", room).ok
    assert [(minute, to) for minute, to in t.recipients(62, CLAIM, step=15) if minute] == [(32, "alice"), (47, "alice"), (62, "bob")]
    return room, t


def test_a_new_severity_keeps_a_claim_reminder_with_the_sponsor_at_its_pace(chat, clock):
    room, t = claim_reaches_the_sponsor(chat, clock)
    t.at(65)
    assert chat.say("alice", "sev 2", room).ok
    assert t.fire(65, CLAIM) == []  # not alice again, as if the deadline had just passed
    assert t.fire(76, CLAIM) == []
    assert [to for to, _text in t.fire(77, CLAIM)] == ["bob"]


def test_reopening_brings_a_claim_reminder_back_to_the_sponsor(chat, clock):
    room, t = claim_reaches_the_sponsor(chat, clock)
    t.at(63)
    assert chat.say("alice", "resolve contained", room).ok
    assert t.fire(90, CLAIM) == []
    assert chat.say("alice", "reopen", room).ok
    assert [to for to, _text in t.fire(90, CLAIM)] == ["bob"]  # still unanswered: where it was, at once


def test_a_new_severity_keeps_a_stakeholder_reminder_with_the_sponsor(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)  # sev1: regulators due within 1 h
    for minute, who in ((60, ["erin", "alice"]), (75, ["erin", "alice"]), (90, ["bob"])):
        at(clock, start, minute)
        assert heard(chat, REGULATORS) == who
    at(clock, start, 95)
    assert chat.say("alice", "sev 2", room).ok
    at(clock, start, 105)
    assert heard(chat, REGULATORS) == ["bob"]  # at its pace, where it was; not the first rung again at sev2's 4 h


def test_a_reminder_that_ran_out_of_rungs_climbs_to_the_one_a_new_severity_adds(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock, line="declare product-quality sev2 Battery overheating")  # 4 h; no sponsor at sev2
    for minute, who in ((240, ["erin", "alice"]), (255, ["erin", "alice"]), (270, [])):
        at(clock, start, minute)
        assert heard(chat, REGULATORS) == who
    at(clock, start, 275)
    assert chat.say("alice", "sev 1", room).ok  # bob joins as the executive sponsor
    assert heard(chat, REGULATORS) == ["erin", "alice"]  # its pace was due: once more, then the next rung
    at(clock, start, 290)
    assert heard(chat, REGULATORS) == ["bob"]


def test_reopening_brings_a_stakeholder_reminder_back_to_the_sponsor(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)  # sev1: regulators due within 1 h
    for minute, who in ((60, ["erin", "alice"]), (75, ["erin", "alice"]), (90, ["bob"])):
        at(clock, start, minute)
        assert heard(chat, REGULATORS) == who
    at(clock, start, 92)
    assert chat.say("alice", "resolve contained", room).ok
    at(clock, start, 120)
    assert chat.say("alice", "reopen", room).ok
    assert heard(chat, REGULATORS) == ["bob"]


class RefusingServer:
    """A mail server that refuses every address."""

    platform = "mail"
    sender = "desk@onevoice.example"

    async def send_mail(self, message, message_id, date) -> dict:
        raise Refused("refused: 550 5.1.1 No such user")


async def test_a_refused_stakeholder_mail_brings_the_deadline_reminder_back(chat, clock):
    start = clock.now()
    chat.deps.channels.add("mail")
    room = approved_incident(chat, clock)
    at(clock, start, 30)
    assert chat.say("erin", "notify regulators", room).ok  # the duty desk is its only e-mail contact
    await Deliverer(chat.engine, chat.deps, RefusingServer()).deliver_pending()
    assert "due 10:00 Beijing time, 2 Mar, 30 min left" in chat.say("dave", "stakeholders", room).message.plain()
    at(clock, start, 60)
    assert heard(chat, REGULATORS) == ["erin", "alice"]  # nobody was told: the deadline holds


async def test_a_mail_refused_after_the_sponsor_heard_brings_it_back_to_the_sponsor(chat, clock):
    start = clock.now()
    chat.deps.channels.add("mail")
    room = approved_incident(chat, clock)
    for minute, who in ((60, ["erin", "alice"]), (75, ["erin", "alice"])):
        at(clock, start, minute)
        assert heard(chat, REGULATORS) == who
    at(clock, start, 80)
    assert chat.say("erin", "notify regulators", room).ok
    await Deliverer(chat.engine, chat.deps, RefusingServer()).deliver_pending()
    assert heard(chat, REGULATORS) == []
    at(clock, start, 90)
    assert heard(chat, REGULATORS) == ["bob"]  # the next rung, at its pace
