"""Attacks with odd unicode on the grammar (issue 15): what a Chinese input method types in full-width form —
＠ before a name, full-width digits and letters in a duration or an incident number — means what the ASCII form means,
and combining marks, emoji joiners and right-to-left text in free text come back as typed."""

import pytest

from tests.handlers.chat_lines import said


def test_full_width_forms_mean_what_the_ascii_forms_mean(chat, room):
    said(chat, "alice", "task Call the regulator @bob in ３０ｍ", room)
    said(chat, "alice", "ＴＡＳＫ Brief the stores ＠bob ｉｎ 2h", room)
    said(chat, "alice", "＃１ task Check the batch numbers @carol in 1h", room)
    listing = said(chat, "alice", "tasks all", room)
    assert "Call the regulator · Bob Li · due 09:30 Beijing time, 2 Mar" in listing
    assert "Brief the stores · Bob Li · due 11:00 Beijing time, 2 Mar" in listing, listing
    assert "Check the batch numbers · Carol Wang · due 10:00 Beijing time, 2 Mar" in listing


def test_combining_marks_emoji_joiners_and_rtl_words_are_kept_as_typed(chat, room):
    text = "Café ｃａｆé e\u0301 👩\u200d💻 🏳️\u200d🌈 👨‍👩‍👧 مرحبا עברית 1️⃣ 🇨🇳"
    said(chat, "alice", f"task {text} @carol", room)
    listing = said(chat, "alice", "tasks all", room)
    composed = text.replace("e\u0301", "é")
    assert f"{composed} · Carol Wang" in listing  # stored NFC: the same letters, composed


@pytest.mark.parametrize(
    "line",
    [
        "ｓｅｖ １",
        "sev ①",
        "phase ＲＥＳＰＯＮＤＩＮＧ",
        "done ３",
        "skip ４ not needed here",
        "done ３\nundo ３",
        "ｔａｓｋｓ ａｌｌ",
        "ＡＳＳＩＧＮ ｌｅｇａｌ ＠ｅｒｉｎ",
        "action Call the lab @bob due ２０２６-０３-２０",
        "action Call the lab @bob ｄｕｅ ｉｎ ３ｄ",
    ],
)
def test_every_word_the_grammar_reads_may_be_typed_full_width(chat, room, line):
    """Was: full-width digits, phases and roles were refused (`done ３`: "Give the item's number")."""
    for each in line.split("\n"):
        said(chat, "alice", each, room)


def test_a_severity_typed_full_width_in_a_declaration_is_the_severity_not_part_of_the_title(chat):
    """Was: `declare product-quality ｓｅｖ１ Fire` declared at the playbook's default severity, titled "ｓｅｖ１ Fire"."""
    reply = chat.say("alice", "declare product-quality ｓｅｖ１ Plant fire", "lobby")
    assert reply.ok, reply.message.plain()
    status = chat.say("alice", "#1 status", "lobby").message.plain()
    assert "Severity sev1" in status and "Plant fire" in status and "ｓｅｖ" not in status


def test_a_playbook_and_a_draft_version_typed_full_width(chat):
    _incident, room = chat.declare(line="declare ｐｒｏｄｕｃｔ-ｑｕａｌｉｔｙ sev2 Battery overheating")
    said(chat, "carol", "draft We are sorry for the worry.", room)
    said(chat, "bob", "reject ｖ１ Too vague", room)
    assert "v1 rejected" in said(chat, "alice", "history", room) or "rejected" in said(chat, "alice", "history", room)
