"""Free text is text: the grammar's keywords count only where the grammar puts them (`+`/`-` first, `due …`/`in …`
last, flags as whole words in their place), so a text holding every one of them comes back exactly as typed, read
where a person reads it (`tasks`, `actions`, `history`, the card, room posts, the review report).

Incident #1 is product-quality sev2 declared by alice (commander, comms); bob holds legal, carol is spokesperson.
"""

import pytest

from bot.web.report_files import write_report
from storage.db import session
from tests.handlers.chat_lines import said

# Every keyword of the grammar, inside free text (one line: titles are one line too).
FREE = "Check + the - due diligence in person due 2026-03-09 in 30m --signal 1 --force v2 all mine @ #1 due in 3d, then call"


def report_of(chat, tmp_path) -> str:
    """The review report's HTML page, as its reader gets it."""
    with session(chat.engine) as db:
        _markdown, page = write_report(db, chat.config, 1, chat.clock.now(), tmp_path)
    return page.read_text(encoding="utf-8")


def test_a_task_keeps_every_keyword_of_its_text_and_takes_only_its_owner_and_due_time(chat, room):
    said(chat, "alice", f"task {FREE} @bob in 2h", room)
    said(chat, "alice", f"task {FREE} @legal", room)
    said(chat, "alice", f"task {FREE}", room)
    listing = said(chat, "alice", "tasks", room)
    assert f"☐ 15 {FREE} · Bob Li · due 11:00 Beijing time, 2 Mar" in listing
    assert f"☐ 16 {FREE} · Bob Li (" in listing  # @role at the end names its holder
    assert listing.endswith(f"☐ 17 {FREE} · —")


def test_an_action_keeps_a_due_inside_its_text(chat, room):
    """Was: `action Check the due diligence file @bob due in 3d` was refused because of the first "due"."""
    said(chat, "alice", "action Check the due diligence file @bob due in 3d", room)
    said(chat, "alice", f"action {FREE} @erin due 2026-03-20", room)
    listing = said(chat, "bob", "actions", room)
    assert "A1 Check the due diligence file · Bob Li · 09:00 Beijing time, 5 Mar" in listing
    assert f"A2 {FREE} · Erin Liu · 18:00 Beijing time, 20 Mar" in listing


def test_a_lesson_keeps_all_its_words(chat, room, tmp_path):
    """Was: without `+`/`-` only the first word was kept: `lesson Legal review took too long on v1` stored "Legal"."""
    said(chat, "alice", "resolve All clear", room)
    said(chat, "alice", "lesson Legal review took too long on v1", room)
    said(chat, "dave", f"lesson + {FREE}", room)
    said(chat, "dave", f"lesson {FREE}", room)
    report = report_of(chat, tmp_path)
    assert "Legal review took too long on v1" in report
    assert report.count(FREE) >= 2


def test_a_declare_title_may_hold_the_signal_flag(chat):
    """Was: a title containing `--signal` failed ("There is no signal …")."""
    reply = chat.say("alice", f"declare outage sev3 {FREE}")
    assert reply.ok, reply.message.plain()
    room = chat.room_of(reply.incident_id)
    assert f"#{reply.incident_id} {FREE}" in said(chat, "alice", "status", room)


@pytest.mark.parametrize("verb", ["note", "update"])
def test_notes_and_updates_keep_every_keyword(chat, room, tmp_path, verb):
    said(chat, "alice", f"{verb} {FREE}", room)
    assert FREE in report_of(chat, tmp_path)


def test_a_resolve_summary_keeps_every_keyword(chat, room):
    said(chat, "alice", f"resolve {FREE}", room)
    assert any(post.startswith("✅ #1 resolved by Alice Chen.\n" + FREE) for post in chat.posts())


def test_a_forced_close_keeps_its_whole_reason(chat, room, tmp_path):
    said(chat, "alice", "resolve All clear", room)
    said(chat, "alice", f"close --force {FREE}", room)
    assert FREE in report_of(chat, tmp_path)


def test_a_skip_reason_and_a_reject_reason_keep_every_keyword(chat, room):
    said(chat, "alice", f"skip 3 {FREE}", room)
    assert f"skipped: {FREE}" in said(chat, "alice", "tasks all", room)
    said(chat, "alice", f"draft We are sorry. {FREE}. Next update at 11:00.", room)
    said(chat, "bob", f"reject v1 {FREE}", room)
    history = said(chat, "alice", "history", room)
    assert f"rejected by Bob Li: “{FREE}”" in history


def test_a_draft_is_stored_and_shown_exactly_as_typed(chat, room):
    body = f"We are sorry. *Not bold* _not italic_ ~not struck~ `not code` <!channel> {FREE}. Next update at 11:00."
    request = said(chat, "alice", f"draft {body}", room)
    assert body in request
    said(chat, "bob", "approve v1", room)
    said(chat, "dave", "approve v1", room)
    assert body in said(chat, "alice", "line", room)
