"""Attacks on the desk: outsiders, huge and hostile input, the grammar's keywords inside free text, odd list keys."""

from datetime import timedelta

import pytest

from handlers.desk import inquiries, stakeholders
from tests.handlers.desk_chat import approved_incident, mails


@pytest.fixture(autouse=True)
def headline(monkeypatch):
    for module in (stakeholders, inquiries):
        monkeypatch.setattr(module, "mail_subject", lambda statement, config: "PB-20")


@pytest.mark.parametrize(
    "line",
    ["notify regulators", "notified regulators Provincial", "stakeholders", "inquiry Reuters Is it safe?", "inquiries", "answer q1"],
)
def test_someone_outside_the_team_is_refused_and_nothing_changes(chat, clock, line):
    room = approved_incident(chat, clock)
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    before = chat.snapshot()
    reply = chat.say("mallory", line, room)
    assert not reply.ok and "You are not in the team model yet" in reply.message.plain()
    assert chat.snapshot() == before


def test_huge_input_is_refused_whole_never_cut(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("dave", "inquiry Caixin Are stores closed?", room).ok
    before = chat.snapshot()
    for line, reason in {
        "inquiry " + "R" * 121 + " When?": "The outlet's name is too long: at most 120 characters",
        "notified regulators Provincial " + "n" * 501: "The note is too long: at most 500 characters.",
        "answer q1 declined " + "r" * 501: "The reason is too long: at most 500 characters.",
        "notify " + "x" * 3000: "No stakeholder list “" + "x" * 40 + "”",
        "answer q99999999": "Name the press inquiry as shown on it",
    }.items():
        reply = chat.say("carol", line, room)
        assert not reply.ok and reason in reply.message.plain(), (line[:40], reply.message.plain()[:200])
    assert chat.snapshot() == before


def test_markup_and_keywords_in_an_inquiry_stay_text_and_the_mail_body_is_the_line_not_the_question(chat, clock):
    room = approved_incident(chat, clock)
    question = "<b>due</b> in *bold* & `code` — in 2h? email me@ due 17:30"
    reply = chat.say("dave", f"inquiry *Outlet* {question}", room)
    assert reply.ok and f"from *Outlet* logged for the spokesperson: “{question}”" in reply.message.plain()
    shown = chat.say("dave", "inquiries", room).message.plain()
    assert f"Q1 *Outlet*: “{question}” · open, no deadline" in shown
    assert chat.say("carol", "answer q1", room).ok and mails(chat) == []  # no address was given: nothing to mail


def test_a_list_key_written_in_capitals_in_the_config_is_found_however_typed(chat, clock, config):
    config.stakeholders["Regulators"] = config.stakeholders.pop("regulators")
    room = approved_incident(chat, clock)
    assert chat.say("erin", "notify REGULATORS", room).ok
    assert chat.say("erin", "notified ｒｅｇｕｌａｔｏｒｓ Provincial", room).ok  # full-width, as some keyboards type it
    assert [m.to for m in mails(chat)] == ["duty@regulator.example"]


def test_a_phone_only_list_is_told_by_a_recorded_call_and_notify_only_lists_whom_to_call(chat, clock, config):
    config.stakeholders["regulators"].contacts = [c for c in config.stakeholders["regulators"].contacts if c.phone]
    room = approved_incident(chat, clock)
    said = chat.say("erin", "notify regulators", room).message.plain().splitlines()
    assert said[0] == "Regulators has nobody to e-mail." and said[1].startswith("To call: Provincial office (+86 10 5555 0100).")
    assert mails(chat) == []
    assert "not told yet" in chat.say("dave", "stakeholders", room).message.plain()
    assert chat.say("erin", "notified regulators Provincial", room).ok
    clock.advance(timedelta(minutes=1))
    assert "required · told at" in chat.say("dave", "stakeholders", room).message.plain()


def test_a_closed_incident_takes_no_more_notifications(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("alice", "resolve Done", room).ok
    assert chat.say("dave", "lesson - Tell the regulators earlier", room).ok
    assert chat.say("alice", "close --force The open items move to the recall plan", room).ok
    before = chat.snapshot()
    for line in ("notify regulators", "inquiry Reuters Late question"):
        assert not chat.say("alice", line, room).ok
    assert chat.snapshot() == before
    assert chat.say("dave", "stakeholders", room).ok and chat.say("dave", "inquiries", room).ok  # reading still works
