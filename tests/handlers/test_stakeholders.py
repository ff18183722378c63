"""Telling the stakeholder lists (PRODUCT.md §10), through the console: `notify`, `notified`, `stakeholders`.

The starter config: regulators (required for product-quality, sev1 deadline 1 h; an e-mail contact and a phone
contact) and press (not required; one e-mail contact). #1 is declared at 09:00 Asia/Shanghai (01:00 UTC)."""

from datetime import timedelta

import pytest
from sqlmodel import select

from handlers.desk import stakeholders
from storage.db import session
from storage.models import Outbox
from tests.handlers.desk_chat import HEADLINE, LINE, approved_incident, mails, room_posts


@pytest.fixture(autouse=True)
def headline(monkeypatch):
    """The headline the line was approved with (the line's own feature decides it; here a fixed one)."""
    monkeypatch.setattr(stakeholders, "mail_subject", lambda statement, config: HEADLINE)


def test_notify_mails_the_approved_line_byte_for_byte_to_each_address_and_lists_whom_to_call(chat, clock):
    room = approved_incident(chat, clock)
    reply = chat.say("erin", "notify regulators", room)
    assert reply.ok, reply.message.plain()
    assert reply.message.plain().splitlines() == [
        "📨 Regulators: v1 e-mailed to Market regulator duty desk.",
        "To call: Provincial office (+86 10 5555 0100). Then record each call: /crisis notified regulators <contact> [note].",
    ]
    [mail] = mails(chat)
    assert (mail.to, mail.subject, mail.body) == ("duty@regulator.example", HEADLINE, LINE)
    assert mail.body.encode() == LINE.encode()  # byte for byte: CJK, emoji, markup-like text untouched
    assert reply.message.plain() in room_posts(chat)  # said in the room too


def test_the_named_version_must_be_the_approved_line(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("carol", "notify press v1", room).ok
    assert [m.to for m in mails(chat)] == ["desk@newswire.example"]
    assert chat.say("carol", "draft Second version of the line.", room).ok  # v2 pending: v1 is still the line
    before = chat.snapshot()
    refused = chat.say("carol", "notify press v2", room)
    assert not refused.ok and "v2 is not the approved line; v1 is." in refused.message.plain()
    assert chat.snapshot() == before


def test_refusals_say_why_and_change_nothing(chat, clock):
    _incident, room = chat.declare(line="declare product-quality sev1 Battery overheating")
    cases = {
        "notify regulators": "#1 has no approved line yet: nothing may go out.",
        "notify ministers": "No stakeholder list “ministers”; the lists are: regulators (Regulators), press (Press list).",
        "notify": "Name a stakeholder list: regulators (Regulators), press (Press list).",
        "notify regulators v1 now": "Give a list and, if you like, the version",
        "notify regulators version1": "“version1” is not a version: write it as v3.",
        "notified regulators": "Name the contact: Market regulator duty desk, Provincial office.",
        "notified regulators Mayor's office called back": "Regulators has no contact “Mayor's”; its contacts: Market regulator duty desk,",
        "notified ministers Provincial": "No stakeholder list “ministers”",
    }
    before = chat.snapshot()
    for line, reason in cases.items():
        reply = chat.say("alice", line, room)
        assert not reply.ok and reason in reply.message.plain(), (line, reply.message.plain())
    assert chat.snapshot() == before


@pytest.mark.parametrize(
    ("who", "may"),
    [("alice", True), ("carol", True), ("erin", True), ("bob", False), ("dave", False)],  # commander, spokesperson, liaison
)
def test_who_may_notify_and_record(chat, clock, who, may):
    room = approved_incident(chat, clock)
    before = chat.snapshot()
    for line in ("notify press", "notified regulators Provincial"):
        reply = chat.say(who, line, room)
        assert reply.ok is may, (who, line, reply.message.plain())
        if not may:
            assert f"Only External liaison, Spokesperson, Incident commander may use {line.split()[0]}" in reply.message.plain()
            assert chat.snapshot() == before
    assert chat.say("dave", "stakeholders", room).ok  # anyone may look


def test_a_contact_is_named_whole_or_by_an_unambiguous_start_and_the_rest_is_the_note(chat, clock, config):
    config.stakeholders["regulators"].contacts[0].name = "Provincial duty desk"  # two contacts start with "Provincial"
    room = approved_incident(chat, clock)
    ambiguous = chat.say("erin", "notified regulators provincial called back", room)
    assert (
        not ambiguous.ok
        and "“provincial” could be Provincial duty desk, Provincial office: write more of the name." in ambiguous.message.plain()
    )
    whole = chat.say("erin", "notified regulators provincial office Called at 09:40, due in 2h they said", room)
    assert whole.ok and whole.message.plain().splitlines() == [
        "☎ Regulators: Provincial office told, recorded by Erin Liu.",
        "Note: Called at 09:40, due in 2h they said",  # "due" and "in" inside a note stay text
    ]
    assert chat.say("erin", "notified REGULATORS Prov Wants the lot numbers", room).ok is False  # still two
    assert chat.say("erin", "notified regulators Provincial-duty", room).ok is False


def test_stakeholders_shows_deadlines_and_who_was_told_what_and_how(chat, clock):
    room = approved_incident(chat, clock)  # 09:05
    clock.advance(timedelta(minutes=10))
    assert chat.say("erin", "notify regulators", room).ok  # 09:15
    clock.advance(timedelta(minutes=10))
    assert chat.say("carol", "notified regulators Provincial Will call back", room).ok  # 09:25
    clock.advance(timedelta(minutes=5))  # 09:30
    assert chat.say("dave", "stakeholders", room).message.plain().splitlines() == [
        "Stakeholders of #1",
        "Regulators (regulators) · required · told at 09:15 Beijing time, 2 Mar, 45 min before the deadline 10:00 Beijing time, 2 Mar",
        "• Market regulator duty desk (duty@regulator.example): v1 e-mail pending (queued 09:15 Beijing time, 2 Mar by Erin Liu)",
        "• Provincial office (+86 10 5555 0100): call or reply recorded by Carol Wang at 09:25 Beijing time, 2 Mar: Will call back",
        "Press list (press) · not required · no deadline",
        "• Newswire desk (desk@newswire.example): not told yet",
    ]
    _outcome(chat, "failed")  # the mail channel's worker gave up on the address
    assert "v1 e-mail refused (queued 09:15 Beijing time, 2 Mar by Erin Liu)" in chat.say("dave", "stakeholders", room).message.plain()
    _outcome(chat, "sent")
    assert "v1 e-mail delivered (queued" in chat.say("dave", "stakeholders", room).message.plain()


def test_before_the_deadline_it_shows_how_long_is_left_and_after_it_how_late(chat, clock):
    room = approved_incident(chat, clock)  # 09:05
    first = chat.say("dave", "stakeholders", room).message.plain().splitlines()[1]
    assert first == "Regulators (regulators) · required · due 10:00 Beijing time, 2 Mar, 55 min left"
    clock.advance(timedelta(minutes=70))
    late = chat.say("dave", "stakeholders", room).message.plain().splitlines()[1]
    assert late == "Regulators (regulators) · required · due 10:00 Beijing time, 2 Mar, overdue by 15 min"


def test_the_same_version_twice_to_the_same_list_is_refused_and_a_redelivered_command_mails_once(chat, clock):
    room = approved_incident(chat, clock)
    assert chat.say("erin", "notify regulators", room, event_id="evt-1").ok
    assert chat.say("erin", "notify regulators", room, event_id="evt-1").ok  # the platform redelivered it
    assert len(mails(chat)) == 1
    again = chat.say("alice", "notify regulators v1", room)
    assert not again.ok and "Regulators already has v1" in again.message.plain()
    assert len(mails(chat)) == 1


def test_a_drill_rehearses_the_notification_and_mails_nobody(chat, clock):
    room = approved_incident(chat, clock, line="drill product-quality sev1")
    reply = chat.say("erin", "notify regulators", room)
    assert reply.ok and reply.message.plain().splitlines()[0] == (
        "🧪 DRILL: Regulators would now get v1 by e-mail (Market regulator duty desk). Nothing was sent outside."
    )
    assert mails(chat) == []
    shown = chat.say("dave", "stakeholders", room).message.plain()
    assert "• Market regulator duty desk (duty@regulator.example): v1 e-mail rehearsed in the drill" in shown


def _outcome(chat, state: str) -> None:
    """What the mail channel's worker records on the row once it has tried (owned by the delivery, not by this feature)."""
    with session(chat.engine) as db:
        for row in db.exec(select(Outbox).where(Outbox.platform == "mail")):
            row.state = state
            db.add(row)
        db.commit()


def test_a_contact_added_later_gets_the_version_and_nobody_gets_it_twice(chat, clock, config):
    from config.model import Contact

    room = approved_incident(chat, clock)
    assert chat.say("erin", "notify regulators", room).ok
    config.stakeholders["regulators"].contacts.append(Contact(name="Ministry hotline", email="hotline@ministry.example"))
    reply = chat.say("erin", "notify regulators", room)
    assert reply.ok and reply.message.plain().splitlines()[0] == "📨 Regulators: v1 e-mailed to Ministry hotline."
    assert [m.to for m in mails(chat)] == ["duty@regulator.example", "hotline@ministry.example"]


def test_a_list_whose_only_mail_was_refused_is_not_told(chat, clock):
    room = approved_incident(chat, clock)  # 09:05
    clock.advance(timedelta(minutes=10))
    assert chat.say("erin", "notify regulators", room).ok  # 09:15; the duty desk is its only e-mail contact
    assert "· required · told at 09:15" in chat.say("dave", "stakeholders", room).message.plain()
    _outcome(chat, "failed")  # the server refused the address: nobody was told
    shown = chat.say("dave", "stakeholders", room).message.plain().splitlines()[1]
    assert shown == "Regulators (regulators) · required · due 10:00 Beijing time, 2 Mar, 45 min left"
