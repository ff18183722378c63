"""Checklist items that a command fulfils (`done_by` in the playbook) are done by that command (issue 21)."""

from datetime import timedelta

import pytest

from config.load import parse_config
from tests.handlers.report_timeline import V2

HOLDING = "Draft the holding statement from the template"  # product-quality item 3, done_by: draft


def _line(chat, room: str, title: str) -> str:
    [line] = [line for line in chat.say("dave", "tasks all", room).message.plain().splitlines() if title in line]
    return line


def test_drafting_the_statement_marks_the_draft_item_done_and_it_stops_reminding(chat, clock):
    start = clock.now()
    _incident, room = chat.declare()
    assert _line(chat, room, HOLDING).startswith("☐ 3 ")
    clock._now = start + timedelta(minutes=5)
    assert chat.say("carol", f"draft {V2}", room).ok
    assert _line(chat, room, HOLDING).startswith("☑ 3 ")
    assert HOLDING not in chat.say("dave", "tasks", room).message.plain()  # no longer open
    clock._now = start + timedelta(hours=3)  # long past its 30-minute due time
    assert not [message.plain() for _to, message in chat.fire() if HOLDING in message.plain()]


def test_the_item_done_by_a_command_has_its_own_timeline_entry_in_the_report(chat, clock, tmp_path):
    _incident, room = chat.declare()
    assert chat.say("carol", f"draft {V2}", room).ok
    timeline = _report_markdown(chat, tmp_path)
    assert [line for line in timeline.splitlines() if HOLDING in line and "task done" in line]


def test_publishing_marks_the_outage_publish_item_done_and_not_before(chat, clock):
    _incident, room = chat.declare(line="declare outage sev3 Checkout down")
    assert chat.say("carol", "draft The checkout is down; we are on it.", room).ok
    assert _line(chat, room, "Draft the first status-page notice").startswith("☑")
    assert _line(chat, room, "Publish the approved notice").startswith("☐")  # drafted is not published
    for who in ("bob", "alice", "dave"):
        chat.say(who, "approve", room)
    published = chat.say("carol", "publish", room)
    assert published.ok, published.message.plain()
    assert _line(chat, room, "Publish the approved notice").startswith("☑")


def test_undo_reopens_an_item_a_command_marked_done(chat):
    _incident, room = chat.declare()
    assert chat.say("carol", f"draft {V2}", room).ok
    assert chat.say("alice", "undo 3", room).ok
    assert _line(chat, room, HOLDING).startswith("☐ 3 ")


def test_an_item_done_by_assembling_is_done_when_the_last_required_role_accepts(chat, config):
    spec = config.playbooks["product-quality"].checklist[1]
    config.playbooks["product-quality"].checklist[1] = spec.model_copy(update={"done_by": "assembled"})
    title = spec.title.get("en")
    _incident, room = chat.declare(line="declare product-quality sev3 Battery overheating")  # commander, spokesperson, comms, legal
    card = chat.say("dave", "status", room).message.plain()
    holders = [who for who in ("alice", "bob", "carol", "dave", "erin") if who.capitalize() in card]
    for who in holders[:-1]:
        chat.say(who, "ack", room)
    assert _line(chat, room, title[:30]).startswith("☐")
    for who in holders:
        chat.say(who, "ack", room)
    assert _line(chat, room, title[:30]).startswith("☑")


def test_a_playbook_naming_an_unknown_event_is_refused():
    text = "playbooks:\n  outage:\n    checklist:\n      - {title: {en: Do it}, owner: comms, due: 1h, done_by: approve}\n"
    with pytest.raises(Exception) as refused:
        parse_config(text)
    assert "done_by" in str(refused.value)


def _report_markdown(chat, folder) -> str:
    from bot.web.report_files import write_report
    from storage.db import session

    with session(chat.engine) as db:
        written = write_report(db, chat.config, 1, chat.clock.now(), folder)
    assert written
    return written[0].read_text(encoding="utf-8")


def test_close_names_the_open_drafts_and_items_and_needs_force_with_a_reason(chat):
    _incident, room = chat.declare()
    assert chat.say("carol", "draft We are checking the reports.", room).ok  # v1, waiting for approval
    assert chat.say("alice", "resolve", room).ok
    assert chat.say("dave", "lesson + The monitor caught it early", room).ok
    before = chat.snapshot()
    refused = chat.say("alice", "close", room)
    assert not refused.ok
    assert refused.message.plain().splitlines()[0] == (
        "Still open in #1: drafts waiting for approval: v1; 13 checklist items open (1, 2, 4, 5, 6, 7, 8, 9…)."
    )
    assert "`/crisis close --force <reason>`" in refused.message.plain() or "/crisis close --force <reason>" in refused.message.plain()
    assert chat.snapshot() == before
    assert not chat.say("alice", "close --force", room).ok  # a reason is needed
    assert chat.say("alice", "close --force Items move to the recall plan", room).ok


def test_close_without_anything_open_needs_no_force(chat):
    _incident, room = chat.declare()
    for n in range(1, 15):
        assert chat.say("alice", f"skip {n} Not needed for this drill", room).ok
    assert chat.say("alice", "resolve", room).ok
    assert chat.say("dave", "lesson + The monitor caught it early", room).ok
    assert chat.say("alice", "close", room).ok


def test_the_close_gate_speaks_chinese(chat, config):
    config.language = "zh"
    _incident, room = chat.declare()
    assert chat.say("alice", "resolve", room).ok
    refused = chat.say("alice", "close", room).message.plain()
    assert "Still open" not in refused and "checklist" not in refused and "14" in refused


def test_a_redelivered_draft_marks_the_item_done_once(chat, tmp_path):
    _incident, room = chat.declare()
    for _ in range(2):
        chat.say("carol", f"draft {V2}", room, event_id="slack:evt:42")
    timeline = _report_markdown(chat, tmp_path)
    assert len([line for line in timeline.splitlines() if HOLDING in line and "task done" in line]) == 1


def test_a_refused_draft_fulfils_nothing(chat):
    _incident, room = chat.declare()
    refused = chat.say("frank", f"draft {V2}", room)  # not on the team
    assert not refused.ok
    assert _line(chat, room, HOLDING).startswith("☐ 3 ")
