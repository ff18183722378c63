"""Press inquiries (PRODUCT.md §10), through the console: `inquiry`, `inquiries`, `answer q<n>`, and the overdue reminder.
#1 is product-quality sev1, declared 09:00 in the team's zone (01:00 UTC); the line v1 is approved at 09:05."""

from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.desk import inquiries
from storage.db import session
from storage.models import Outbox
from tests.handlers.desk_chat import HEADLINE, LINE, approved_incident, fire, mails

QUESTION = "Is it true the recall is due in 2 weeks, and in which stores? email us before 6"


@pytest.fixture(autouse=True)
def headline(monkeypatch):
    monkeypatch.setattr(inquiries, "mail_subject", lambda statement, config: HEADLINE)


def test_an_inquiry_is_logged_with_its_deadline_and_address_and_the_question_kept_whole(chat, clock):
    room = approved_incident(chat, clock)  # 09:05
    reply = chat.say("dave", f"inquiry Reuters in 2h email Reporter@Reuters.example {QUESTION}", room)  # anyone on the team
    assert reply.ok, reply.message.plain()
    assert reply.message.plain().splitlines() == [
        f"📰 Q1 from Reuters logged for the spokesperson, due 11:05 Beijing time, 2 Mar: “{QUESTION}”",
        "Answer it with the approved line: /crisis answer q1, or /crisis answer q1 declined <reason>.",
    ]
    assert chat.say("dave", "inquiry Caixin due 17:30 in Beijing, are stores closed?", room).ok
    assert chat.say("dave", "inquiry Caixin due to the recall, what now?", room).ok  # "due to": text
    assert chat.say("dave", "inquiry Xinhua email me back: when is the next update?", room).ok  # no address: text
    assert chat.say("dave", "inquiries", room).message.plain().splitlines() == [
        "Press inquiries of #1",
        f"Q1 Reuters: “{QUESTION}” · open, due 11:05 Beijing time, 2 Mar (2 hr left)",
        "Q2 Caixin: “in Beijing, are stores closed?” · open, due 17:30 Beijing time, 2 Mar (8 hr 25 min left)",
        "Q3 Caixin: “due to the recall, what now?” · open, no deadline",
        "Q4 Xinhua: “email me back: when is the next update?” · open, no deadline",
    ]


def test_a_deadline_already_past_today_is_tomorrow(chat, clock):
    room = approved_incident(chat, clock)  # 09:05
    assert "due 08:00 Beijing time, 3 Mar" in chat.say("dave", "inquiry Caixin due 08:00 When?", room).message.plain()


def test_bad_input_is_refused_and_changes_nothing(chat, clock):
    room = approved_incident(chat, clock)
    cases = {
        "inquiry": "Name the outlet, then the question.",
        "inquiry Reuters": "Write the journalist's question after the outlet.",
        "inquiry Reuters in 2h": "Write the journalist's question after the outlet.",
        "inquiry Reuters in 5parsecs When?": "is not a duration",
        "inquiry Reuters in 0m When?": "is not a duration",
        "inquiry Reuters due 25:00 When?": "“25:00” is not a time of day",
        "inquiry Reuters email desk@ When?": "“desk@” is not an e-mail address.",
        "inquiry Reuters " + "x" * 2001: "The question is too long: at most 2000 characters.",
        "answer q1": "#1 has no press inquiry Q1",
        "answer q0x": "Name the press inquiry as shown on it, e.g. q2; /crisis inquiries lists them.",
        "answer": "Name the press inquiry as shown on it",
    }
    before = chat.snapshot()
    for line, reason in cases.items():
        reply = chat.say("carol", line, room)
        assert not reply.ok and reason in reply.message.plain(), (line, reply.message.plain())
    assert chat.snapshot() == before


def test_answer_mails_the_approved_line_to_the_inquirys_address_once(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("dave", f"inquiry Reuters in 2h email reporter@reuters.example {QUESTION}", room).ok
    clock.advance(timedelta(minutes=40))
    reply = chat.say("carol", "answer q1 v1", room)
    assert reply.ok and reply.message.plain() == "✉ Q1 from Reuters answered with v1 by Carol Wang; e-mailed to reporter@reuters.example."
    [mail] = mails(chat)
    assert (mail.to, mail.subject, mail.body.encode()) == ("reporter@reuters.example", HEADLINE, LINE.encode())
    again = chat.say("alice", "answer q1", room)
    assert not again.ok and "Q1 was already answered by Carol Wang." in again.message.plain()
    assert len(mails(chat)) == 1
    listed = chat.say("bob", "inquiries", room).message.plain()
    assert "answered with v1 by Carol Wang at 09:45 Beijing time, 2 Mar, e-mail pending" in listed
    with session(chat.engine) as db:  # what the mail channel's worker records when the server refuses the address
        row = db.exec(select(Outbox).where(Outbox.platform == "mail")).one()
        row.state = "failed"
        db.add(row)
        db.commit()
    listed = chat.say("bob", "inquiries", room).message.plain()
    assert "answered with v1 by Carol Wang at 09:45 Beijing time, 2 Mar, e-mail refused" in listed


def test_answer_without_an_address_records_it_and_decline_needs_a_reason(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    assert chat.say("dave", "inquiry Xinhua Who is to blame?", room).ok
    assert chat.say("alice", "answer q1", room).message.plain() == "✉ Q1 from Caixin answered with v1 by Alice Chen."
    assert mails(chat) == []
    bare = chat.say("carol", "answer q2 declined", room)
    assert not bare.ok and "Say why it is declined" in bare.message.plain()
    said = chat.say("carol", "answer q2 declined Speculation about blame; we answer with facts only", room).message.plain()
    assert said == "🚫 Q2 from Xinhua declined by Carol Wang: Speculation about blame; we answer with facts only"
    assert (
        "Q2 Xinhua: “Who is to blame?” · declined by Carol Wang at 09:05 Beijing time, 2 Mar: Speculation about blame"
        in chat.say("bob", "inquiries", room).message.plain()
    )


def test_answer_needs_the_approved_line(chat, clock):
    _incident, room = chat.declare(line="declare product-quality sev1 Battery overheating")
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    before = chat.snapshot()
    refused = chat.say("carol", "answer q1", room)
    assert not refused.ok and "#1 has no approved line yet: nothing may go out." in refused.message.plain()
    assert chat.snapshot() == before


def test_answer_a_version_that_is_not_the_line_or_extra_words_is_refused(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    before = chat.snapshot()
    for line, reason in {
        "answer q1 v2": "v2 is not the approved line; v1 is.",
        "answer q1 v1 please": "After the inquiry give only the version",
    }.items():
        reply = chat.say("carol", line, room)
        assert not reply.ok and reason in reply.message.plain(), reply.message.plain()
    assert chat.snapshot() == before


@pytest.mark.parametrize(("who", "may"), [("carol", True), ("alice", True), ("bob", False), ("dave", False), ("erin", False)])
def test_who_may_answer(chat, clock, who, may):
    room = approved_incident(chat, clock)
    assert chat.say("erin", "inquiry Caixin Are stores closed?", room).ok  # anyone may log one
    before = chat.snapshot()
    reply = chat.say(who, "answer q1", room)
    assert reply.ok is may, reply.message.plain()
    if not may:
        refusal = "Only Spokesperson, Communications lead, Incident commander may answer a press inquiry in incident #1."
        assert refusal in reply.message.plain()
        assert chat.snapshot() == before


def test_past_its_deadline_the_spokesperson_is_reminded_then_the_commander_and_answering_stops_it(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)  # 09:05
    assert chat.say("dave", "inquiry Reuters in 30m Is the recall national?", room).ok  # due 09:35
    clock._now = start + timedelta(minutes=34)
    assert [m for m in fire(chat) if "Q1" in m[1]] == []
    clock._now = start + timedelta(minutes=35)
    said = "⏰ #1 Battery overheating — press inquiry Q1 from Reuters is less than a minute past its deadline. "
    said += "Clear it: /crisis answer q1, or decline it with a reason"
    assert [m for m in fire(chat) if "Q1" in m[1]] == [("carol", said)]
    clock._now = start + timedelta(minutes=50)
    assert [to for to, text in fire(chat) if "Q1" in text] == ["alice"]
    assert "open, overdue since 09:35 Beijing time, 2 Mar (15 min)" in chat.say("bob", "inquiries", room).message.plain()
    assert chat.say("carol", "answer q1", room).ok
    clock._now = start + timedelta(minutes=120)
    assert [m for m in fire(chat) if "Q1" in m[1]] == []


def test_in_a_drill_the_answer_is_recorded_and_nothing_is_mailed(chat, clock):
    room = approved_incident(chat, clock, line="drill product-quality sev1")
    assert chat.say("dave", "inquiry Reuters email reporter@reuters.example Is it safe?", room).ok
    reply = chat.say("carol", "answer q1", room)
    assert (
        reply.message.plain()
        == "🧪 DRILL: Q1 from Reuters answered with v1 by Carol Wang; the e-mail to reporter@reuters.example was not sent."
    )
    assert mails(chat) == []


def test_the_card_counts_lists_told_and_inquiries_open_and_overdue(chat, clock):
    start = clock.now()
    room = approved_incident(chat, clock)

    def card_row() -> str:
        return chat.say("dave", "status", room).message.plain().splitlines()[-1]

    assert card_row() == "Stakeholders: 0/1 required lists told (0 overdue)"
    assert chat.say("dave", "inquiry Reuters in 30m Is the recall national?", room).ok
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    clock._now = start + timedelta(minutes=70)
    assert card_row() == "Stakeholders: 0/1 required lists told (1 overdue) · Press inquiries: 2 open (1 overdue)"
    assert chat.say("erin", "notify regulators", room).ok
    assert chat.say("carol", "answer q1", room).ok
    assert card_row() == "Stakeholders: 1/1 required lists told (0 overdue) · Press inquiries: 1 open (0 overdue)"


def test_the_desk_works_the_same_on_postgresql_and_sqlite(any_engine, config, clock):
    from tests.conftest import Chat

    chat = Chat(any_engine, config, clock)
    room = approved_incident(chat, clock)
    assert chat.say("dave", "inquiry Reuters in 30m email reporter@reuters.example Is it national?", room).ok
    assert chat.say("erin", "notify regulators", room).ok
    assert chat.say("erin", "notified regulators Provincial Called", room).ok
    assert chat.say("carol", "answer q1", room).ok
    assert [m.to for m in mails(chat)] == ["duty@regulator.example", "reporter@reuters.example"]
    shown = chat.say("dave", "stakeholders", room).message.plain()
    assert "v1 e-mail pending (queued 09:05 Beijing time, 2 Mar by Erin Liu)" in shown
    assert "recorded by Erin Liu at 09:05 Beijing time, 2 Mar: Called" in shown
    listed = chat.say("dave", "inquiries", room).message.plain()
    assert "answered with v1 by Carol Wang at 09:05 Beijing time, 2 Mar, e-mail pending" in listed
