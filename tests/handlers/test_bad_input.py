"""Bad input gets a clear, specific reply and changes nothing (PRODUCT.md §3).

Odd but harmless text (other scripts, emoji, CJK) is accepted and stored verbatim.
Every command is typed by alice, the commander of incident #1 (product-quality sev2),
so a refusal is about the input, never about permissions.
"""

import atexit
import shutil
import tempfile
import unicodedata
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import session
from storage.models import ChecklistItem, Incident, Nudge, Room, TimelineEvent

USAGE = {
    "assign": "Usage: /crisis assign <role> @person",
    "handoff": "Usage: /crisis handoff <role> @person",
    "sev": "Usage: /crisis sev <1-4>",
    "phase": "Usage: /crisis phase <detected|assessing|responding|recovering>",
    "done": "Usage: /crisis done <n>",
    "skip": "Usage: /crisis skip <n> <reason>",
    "undo": "Usage: /crisis undo <n>",
    "task": "Usage: /crisis task <text> [@person|@role] [in 30m]",
    "tasks": "Usage: /crisis tasks [mine|all]",
    "declare": "Usage: /crisis declare <playbook> [sev1-4] <title>",
    "update": "Usage: /crisis update <text>",
    "note": "Usage: /crisis note <text>",
    "close": "Usage: /crisis close [--force <reason>]",
}
NUMBER = "Give the item's number, as shown by /crisis tasks."
SEVERITY = "Give a severity from 1 (critical) to 4 (minor)."
NOT_A_MEMBER = "is not a member of the team. Team members: @alice, @bob, @carol, @dave, @erin."
HELP = "Type /crisis help for the list of commands."
CONTROL = "That message contains invisible control characters; type it again as plain text."


_DECLARED: list[tuple[Path, str]] = []  # this process's database just after the first declaration, and its room


@pytest.fixture
def room(chat) -> str:
    """Incident #1, declared by Alice once per process; each later test's database is a copy of that one (the same
    rows a declaration would write: the fake clock starts at the same moment), a third of the cost of declaring."""
    path = Path(chat.engine.url.database)
    chat.engine.dispose()  # the write-ahead log folded into the file: the file alone is the database
    assert not path.with_name(path.name + "-wal").exists()
    if _DECLARED:
        shutil.copyfile(_DECLARED[0][0], path)
        return _DECLARED[0][1]
    incident_id, room = chat.declare()
    assert incident_id == 1
    chat.engine.dispose()
    folder = Path(tempfile.mkdtemp(prefix="onevoice-declared-"))
    atexit.register(shutil.rmtree, folder, True)
    shutil.copyfile(path, folder / "declared.db")
    _DECLARED.append((folder / "declared.db", room))
    return room


def refused_without_change(chat, room, line, *expected, who="alice"):
    """Type a line; it must be refused with every expected fragment, and leave every table as it was."""
    before = chat.snapshot()
    reply = chat.say(who, line, room)
    answer = reply.message.plain()
    assert reply.ok is False, answer
    for fragment in expected:
        assert fragment in answer, f"{fragment!r} not in {answer!r}"
    assert chat.snapshot() == before
    return answer


# ---- unknown verbs


@pytest.mark.parametrize(
    ("line", "suggestion"),
    [
        ("assing legal @bob", "assign"),
        ("stauts", "status"),
        ("hlep", "help"),
        ("resovle All clear", "resolve"),
        ("handof legal @erin", "handoff"),
        ("taks", "tasks"),
        ("Notes battery", "note"),
    ],
)
def test_an_unknown_verb_suggests_the_closest_one_and_help(chat, room, line, suggestion):
    word = line.split()[0]
    refused_without_change(chat, room, line, f"Unknown command “{word}”.", f"Did you mean {suggestion}?", HELP)


@pytest.mark.parametrize("line", ["xyzzy", "🔥", "电池 过热"])
def test_an_unknown_verb_with_nothing_close_points_to_help(chat, room, line):
    answer = refused_without_change(chat, room, line, "Unknown command", HELP)
    assert "Did you mean" not in answer


def test_an_unknown_verb_is_quoted_short(chat, room):
    answer = refused_without_change(chat, room, "q" * 300, "Unknown command “" + "q" * 40 + "”.")
    assert "q" * 41 not in answer


# ---- missing and malformed arguments

MALFORMED = [
    # assign / handoff
    ("assign", ["Name one role and one person.", USAGE["assign"]]),
    ("assign legal", ["Name one role and one person.", USAGE["assign"]]),
    ("assign @erin", ["Name one role and one person.", USAGE["assign"]]),
    ("assign legal @erin @carol", ["Name one role and one person.", USAGE["assign"]]),
    ("role legal", ["Name one role and one person.", USAGE["assign"]]),
    ("assign nobody @bob", ["There is no role “nobody”. Roles: commander, spokesperson, comms, legal, monitor, liaison, scribe, exec."]),
    ("assign @bob @erin", ["There is no role “@bob”."]),
    ("assign legal @nobody", ["@nobody " + NOT_A_MEMBER]),
    ("assign legal erin", ["“erin” is not a mention: name people as @name."]),
    ("assign legal @bob", ["Bob Li already holds Legal counsel."]),
    ("handoff", ["Name one role and one person.", USAGE["handoff"]]),
    ("handoff legal", ["Name one role and one person.", USAGE["handoff"]]),
    ("handoff legal @legal", ["@legal " + NOT_A_MEMBER]),
    ("handoff legal @bob", ["Bob Li already holds Legal counsel."]),
    ("handoff exec @erin", ["Nobody holds Executive sponsor yet; the commander can /crisis assign exec @person."]),
    ("handoff wizard @erin", ["There is no role “wizard”."]),
    # sev / phase
    ("sev", [SEVERITY, USAGE["sev"]]),
    ("sev 7", [SEVERITY, USAGE["sev"]]),
    ("sev 0", [SEVERITY, USAGE["sev"]]),
    ("sev high", [SEVERITY, USAGE["sev"]]),
    ("sev sev5", [SEVERITY, USAGE["sev"]]),
    ("sev 1 2", [SEVERITY, USAGE["sev"]]),
    ("sev 2", ["Incident #1 is already sev2."]),
    ("phase", ["Name the phase.", USAGE["phase"]]),
    ("phase sleeping", ["“sleeping” is not a phase.", USAGE["phase"]]),
    ("phase detected", ["Incident #1 is already detected."]),
    ("phase resolved", ["Use /crisis resolve to move to resolved."]),
    ("phase closed", ["Use /crisis close to move to closed."]),
    # checklist
    ("done", [NUMBER, USAGE["done"]]),
    ("done x", [NUMBER, USAGE["done"]]),
    ("done -1", [NUMBER, USAGE["done"]]),
    ("done 1.5", [NUMBER, USAGE["done"]]),
    ("done 1 2", [NUMBER, USAGE["done"]]),
    ("done 1234567890", [NUMBER, USAGE["done"]]),
    ("done 999", ["There is no item 999 in #1; /crisis tasks all lists them."]),
    ("done 0", ["There is no item 0 in #1"]),
    ("skip", [NUMBER, USAGE["skip"]]),
    ("skip 1", ["Say why the item is skipped.", USAGE["skip"]]),
    ("skip x because", [NUMBER, USAGE["skip"]]),
    ("skip 999 not needed", ["There is no item 999 in #1"]),
    ("undo", [NUMBER, USAGE["undo"]]),
    ("undo 1", ["Item 1 is already open."]),
    ("task", ["Describe the task.", USAGE["task"]]),
    ("task Call regulator in 5parsecs", ["“5parsecs” is not a duration; write 45s, 30m, 2h or 3d.", USAGE["task"]]),
    ("task Call regulator in 30parsecs", ["“30parsecs” is not a duration", USAGE["task"]]),
    ("task Call regulator @nobody", ["@nobody " + NOT_A_MEMBER]),
    ("task Call regulator @nobody in 30m", ["@nobody " + NOT_A_MEMBER]),
    ("task " + "y" * 301, ["The task is 301 characters long; keep it under 300.", USAGE["task"]]),
    ("tasks bogus", ["“bogus” is not a choice.", USAGE["tasks"]]),
    # declare
    (
        "declare nosuchplaybook sev1 Title",
        ["There is no playbook “nosuchplaybook”.", "• product-quality — Product quality crisis (sev2)", USAGE["declare"]],
    ),
    ("new nosuchplaybook Title", ["There is no playbook “nosuchplaybook”.", USAGE["declare"]]),
    ("declare product-quality sev2", ["Give the incident a title.", USAGE["declare"]]),
    ("declare product-quality", ["Give the incident a title.", USAGE["declare"]]),
    ("declare outage " + "x" * 300, ["The title is 300 characters long; keep it under 200.", USAGE["declare"]]),
    ("declare outage sev1 " + "标" * 201, ["The title is 201 characters long; keep it under 200.", USAGE["declare"]]),
    # update, note, lifecycle
    ("update", ["Write the update after the verb.", USAGE["update"]]),
    ("note", ["Write the note after the verb.", USAGE["note"]]),
    ("note    ", ["Write the note after the verb.", USAGE["note"]]),
    ("close --bogus", ["Unexpected “--bogus”.", USAGE["close"]]),
    ("close --force", ["Say why you force the close.", USAGE["close"]]),
    ("close", ["Incident #1 is detected: resolve it first (/crisis resolve), then review, then close."]),
    ("reopen", ["Only a resolved incident can be reopened; #1 is detected."]),
    ("help bogus", ["Unknown command “bogus”.", HELP]),
    # naming an incident
    ("#99 status", ["There is no incident #99. Type /crisis list for the open incidents."]),
    ("#99 done 1", ["There is no incident #99."]),
]


@pytest.mark.parametrize(("line", "expected"), MALFORMED, ids=[line[:40] for line, _ in MALFORMED])
def test_missing_or_malformed_arguments_are_refused_clearly_and_change_nothing(chat, room, line, expected):
    refused_without_change(chat, room, line, *expected)


@pytest.mark.parametrize("line", ["status", "done 1", "note hello", "sev 1"])
def test_an_incident_verb_outside_an_incident_room_asks_which_incident(chat, room, line):
    verb = line.split()[0]
    refused_without_change(
        chat, "lobby", line, f"This is not an incident room: name the incident first, e.g. /crisis #1 {verb}.", "Open incidents: #1"
    )


def test_declare_without_arguments_shows_the_form_and_changes_nothing(chat, room):
    before = chat.snapshot()
    reply = chat.say("alice", "declare", room)
    answer = reply.message.plain()
    assert USAGE["declare"] in answer and "• outage — Service outage or security incident (sev2)" in answer
    assert (reply.form, reply.outcome, reply.declared) == ("declare", None, False)
    assert chat.snapshot() == before


# ---- text over the limit, and control characters


@pytest.mark.parametrize(
    ("line", "size"),
    [("note " + "z" * 20_000, 20_005), ("z" * 20_480, 20_480), ("declare outage sev3 " + "长" * 4000, 4020), ("note " + "a" * 3996, 4001)],
    ids=["20k-note", "20k-bare", "cjk-title", "one-over"],
)
def test_a_message_over_the_limit_is_refused_with_its_size(chat, room, line, size):
    refused_without_change(chat, room, line, f"That message is {size} characters long; the limit is 4000. Shorten it and send it again.")


def test_a_message_exactly_at_the_limit_is_accepted(chat, room):
    body = "a" * (4000 - len("note "))
    assert chat.say("alice", "note " + body, room).ok
    assert timeline_notes(chat) == [body]


@pytest.mark.parametrize(
    "line",
    [
        "note a\x00b",
        "note \x1b[31mred alert\x1b[0m",
        "note bell\x07",
        "note carriage\rreturn",
        "note \u202eevil.exe",
        "note \u202dforced",
        "note \u2066isolate\u2069",
        "declare outage sev3 \u202egnp.exe",
        "assign legal @erin\x00",
        "\x00",
        "\x1b[2J",
    ],
    ids=[
        "nul",
        "ansi-colour",
        "bell",
        "carriage-return",
        "rlo",
        "lro",
        "isolate",
        "rlo-title",
        "nul-after-args",
        "nul-alone",
        "ansi-clear",
    ],
)
def test_control_and_bidi_override_characters_are_refused(chat, room, line):
    refused_without_change(chat, room, line, CONTROL)


# ---- other scripts, emoji and CJK are welcome, and kept verbatim


def timeline_notes(chat) -> list[str]:
    with session(chat.engine) as db:
        return [e.text for e in db.exec(select(TimelineEvent).where(TimelineEvent.kind == "note").order_by(TimelineEvent.id))]


@pytest.mark.parametrize(
    "body",
    [
        "电池 battery 🔥 Ωmega",
        "批次 2231 已封存，等待检测报告。",
        "تحديث: הודעה update",  # right-to-left scripts without override characters
        "Cafe\u0301 vs Café",  # a combining accent is composed (NFC), nothing else changes
        "👩\u200d🚒 firefighter on site 👍🏽",  # zero-width joiner and skin tone
        "Ｆｕｌｌｗｉｄｔｈ ５ units",
        "line one\nline two\ttabbed",
        "Привет, κόσμε — ¿qué tal?",
        "`code` **not bold** <@U123> #12",
    ],
    ids=["mixed", "chinese", "rtl", "combining", "zwj-emoji", "fullwidth", "newline-tab", "cyrillic-greek", "markup-lookalikes"],
)
def test_notes_in_any_script_are_stored_verbatim(chat, room, body):
    reply = chat.say("alice", f"note {body}", room)
    assert reply.ok, reply.message.plain()
    assert timeline_notes(chat) == [unicodedata.normalize("NFC", body)]


def test_a_cjk_and_emoji_title_is_kept_verbatim_and_the_room_gets_a_safe_name(chat, room):
    reply = chat.say("alice", "declare outage sev3 电池过热 🔥 Ωmega")
    assert reply.ok, reply.message.plain()
    assert "Declared #2 “电池过热 🔥 Ωmega” (outage, sev3)." in reply.message.plain()
    with session(chat.engine) as db:
        incident = db.get(Incident, 2)
        room_row = db.exec(select(Room).where(Room.incident_id == 2)).one()
    assert incident.title == "电池过热 🔥 Ωmega"
    assert room_row.name == "crisis-20260302-mega"  # only the ASCII that survives folding is used in the room name


def test_a_title_with_no_latin_letters_gets_a_numbered_room(chat, room):
    reply = chat.say("alice", "declare outage sev3 电池过热 🔥")
    assert reply.ok
    with session(chat.engine) as db:
        assert db.exec(select(Room.name).where(Room.incident_id == 2)).one() == "crisis-20260302-incident-2"
        assert db.get(Incident, 2).title == "电池过热 🔥"


def test_a_cjk_task_with_an_owner_keeps_its_text(chat, room):
    assert chat.say("alice", "task 联系监管机构 🏛 @bob in 2h", room).ok
    with session(chat.engine) as db:
        item = db.exec(select(ChecklistItem).where(ChecklistItem.number == 15)).one()
    assert (item.title, item.owner_person) == ("联系监管机构 🏛", "bob")


def test_an_update_in_mixed_scripts_reaches_the_room_verbatim(chat, room):
    assert chat.say("alice", "update 召回范围：批次 2231 🔋 recall scope narrowed", room).ok
    assert any("召回范围：批次 2231 🔋 recall scope narrowed" in post for post in chat.posts())


def test_a_trailing_in_phrase_that_is_not_one_word_stays_part_of_the_task(chat, room):
    """`in 5 parsecs` is two words, so it is text, not a due time: the item is added with no due."""
    assert chat.say("alice", "task Call regulator in 5 parsecs", room).ok
    with session(chat.engine) as db:
        item = db.exec(select(ChecklistItem).where(ChecklistItem.number == 15)).one()
        overdue = db.exec(select(Nudge).where(Nudge.kind == "task_overdue", Nudge.subject == "15")).all()
    assert (item.title, item.due_at) == ("Call regulator in 5 parsecs", None)
    assert overdue == []


# ---- regressions: bugs found while writing these tests (see each docstring)


@pytest.mark.parametrize("line", ["done ²", "skip ¹ not needed"])
def test_a_superscript_number_reads_as_its_digit_not_a_crash(chat, room, line):
    """Was: str.isdigit() accepted '²', int('²') raised, and the user got 'Something went wrong'. Numbers are read in
    NFKC like every word of the grammar (`#¹`, ｄｏｎｅ ３), so '²' is item 2."""
    reply = chat.say("alice", line, room)
    assert reply.ok, reply.message.plain()
    assert "Something went wrong" not in reply.message.plain()


@pytest.mark.parametrize("line", ["task Archive the records in 999999w", "task Archive the records in 999999d"])
def test_a_due_time_too_far_away_gets_a_clear_reason(chat, room, line):
    """Was: now + 999999w overflowed the date and the user got 'Something went wrong'; 999999d was accepted (due in year 4764)."""
    answer = refused_without_change(chat, room, line, "is too far away; the longest is 366d.", USAGE["task"])
    assert "Something went wrong" not in answer


@pytest.mark.parametrize("word", ["sev7", "sev0", "SEV9"])
def test_declare_with_an_out_of_range_severity_is_refused(chat, room, word):
    """Was: `declare outage sev7 …` opened a sev2 incident titled 'sev7 …'."""
    refused_without_change(
        chat,
        room,
        f"declare outage {word} Login errors",
        f"“{word}” is not a severity: use sev1 (critical) to sev4 (minor).",
        USAGE["declare"],
    )


@pytest.mark.parametrize(
    "body", ["Brief staff in person", "Check stock in Shenzhen", "Meet the press in Beijing", "Call regulator in soon"]
)
def test_a_task_ending_in_an_ordinary_in_phrase_keeps_it_as_text(chat, room, body):
    """Was: any trailing `in <word>` was taken for a due time, so 'Brief staff in person' was refused."""
    reply = chat.say("alice", f"task {body}", room)
    assert reply.ok, reply.message.plain()
    added = item_15(chat)
    assert (added.title, added.due_at) == (body, None)


def item_15(chat) -> ChecklistItem:
    with session(chat.engine) as db:
        return db.exec(select(ChecklistItem).where(ChecklistItem.number == 15)).one()
