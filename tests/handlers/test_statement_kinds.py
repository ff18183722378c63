"""Kinds of statement through the chat (PRODUCT.md §4): `draft [kind]`, `template [kind]`, `vet [kind]`, history and card.

Incident #1 is product-quality sev2 declared by alice: commander=alice, comms=alice, spokesperson=carol,
legal=bob, monitor=dave. Approvers at sev2 are legal and commander.
"""

from bot.web.report_files import write_report
from storage.db import session
from tests.conftest import Chat

FIRST = (  # the six parts of a first message: empathy, a confirmed fact, the unknown, a commitment, where, when
    "Three PB-20 chargers overheated this week, and we are sorry for the worry; the cause is still being investigated. "
    "We will replace every affected charger free of charge. Call 0800 246 8100. Next update at 11:00."
)
REBUTTAL_CLAIM_FIRST = "Posts claim PB-20 chargers explode. They do not. Details: volta.example/facts."
REBUTTAL_FACT_FIRST = "No PB-20 charger has exploded. Posts claiming otherwise are false. Details: volta.example/facts."


def approve(chat: Chat, room: str, version: int) -> None:
    assert chat.say("bob", f"approve v{version}", room).ok
    reply = chat.say("alice", f"approve v{version}", room)
    assert reply.ok and "is now the approved line" in reply.message.plain(), reply.message.plain()


def test_the_first_draft_is_a_holding_statement_and_the_next_an_update(chat, room):
    first = chat.say("carol", f"draft {FIRST}", room).message.plain()
    assert "Draft v1 of #1" in first and "Kind: holding statement" in first
    assert "Wording check: nothing to flag" in first, first
    approve(chat, room, 1)
    second = chat.say("carol", "draft We are sorry: more chargers are affected. Next update at 11:00.", room).message.plain()
    assert "Kind: update" in second and "Wording check: nothing to flag" in second, second


def test_a_rebuttal_is_vetted_as_one(chat, room):
    reply = chat.say("carol", f"draft rebuttal {REBUTTAL_CLAIM_FIRST}", room)
    plain = reply.message.plain()
    assert reply.ok and "Kind: rebuttal" in plain
    assert "A rebuttal states the fact first; this one opens with the claim: “claim”" in plain
    assert "Missing empathy" not in plain  # a rebuttal answers a claim; it is not asked for empathy
    assert "rebuttal Posts" not in plain and "Posts claim PB-20 chargers explode." in plain  # the kind is not part of the text
    clean = chat.say("carol", f"draft rebuttal {REBUTTAL_FACT_FIRST}", room).message.plain()
    assert "Kind: rebuttal" in clean and "Wording check: nothing to flag" in clean, clean


def test_history_and_the_card_show_each_versions_kind(chat, room):
    chat.say("carol", f"draft {FIRST}", room)
    approve(chat, room, 1)
    chat.say("carol", f"draft rebuttal {REBUTTAL_FACT_FIRST}", room)
    history = chat.say("dave", "history", room).message.plain()
    assert "v1 current — Carol Wang" in history and "· holding statement" in history
    assert "v2 pending — Carol Wang" in history and "· rebuttal" in history
    card = chat.say("dave", "status", room).message.plain()
    assert "v2 awaiting approval · v1: holding statement" in card


def test_vet_takes_a_kind_and_says_which_it_checked(chat, room):
    holding = chat.say("dave", "vet The charger line is closed.", room).message.plain()
    assert "Checked as: holding statement." in holding
    assert "No time for the next update" in holding and "Nothing says what is not yet known" in holding
    closing = chat.say("dave", "vet closing The recall is complete. We are sorry for the trouble it caused.", room).message.plain()
    assert "Checked as: closing statement." in closing and "Wording check: nothing to flag" in closing, closing
    outside = chat.say("dave", "vet The recall is complete.", room=None).message.plain()
    assert "Checked as: update." in outside  # outside an incident, the rules of an update


def test_vet_reads_traditional_chinese_rebuttals(chat, room):
    plain = chat.say("dave", "vet rebuttal 網傳本行停止兌換外幣，此說不實。網路上有人說本行倒閉。", room).message.plain()
    assert "opens with the claim: “網傳”" in plain and "The false claim is repeated: “網路上有人”" in plain


def test_template_of_a_kind_suggests_drafting_that_kind_and_refuses_a_kind_it_lacks(chat, room):
    filled = chat.say("dave", "template apology", room).message.plain()
    assert "/crisis draft apology <headline> | <text>" in filled
    assert "/crisis draft holding <headline> | <text>" in chat.say("dave", "template", room).message.plain()
    refused = chat.say("dave", "template rebuttal", room)
    assert not refused.ok and "“rebuttal” is not a template of this playbook" in refused.message.plain()


def test_a_kind_without_text_or_from_a_member_without_permission_changes_nothing(chat, room):
    bare = chat.say("carol", "draft rebuttal", room)
    assert not bare.ok and "Write the proposed statement after the verb." in bare.message.plain()
    outsider = chat.say("dave", f"draft rebuttal {REBUTTAL_FACT_FIRST}", room)
    assert not outsider.ok and "may use draft" in outsider.message.plain()
    assert "has no drafts yet" in chat.say("dave", "history", room).message.plain()
    assert not chat.say("dave", "vet closing", room).ok


def test_a_capitalised_first_word_is_text_not_a_kind(chat, room):
    plain = chat.say("carol", f"draft Update: {FIRST}", room).message.plain()
    assert "Kind: holding statement" in plain and f"Update: {FIRST}" in plain


def test_kinds_and_refusals_speak_chinese(engine, config, clock):
    chat = Chat(engine, config.model_copy(update={"language": "zh"}), clock)
    room = chat.declare()[1]
    bare = chat.say("carol", "draft rebuttal", room)
    assert not bare.ok and "请在命令后写上拟发布的声明。" in bare.message.plain()
    reply = chat.say("carol", "draft rebuttal 網傳本行停止兌換外幣，此說不實。", room).message.plain()
    assert "类型：辟谣声明" in reply and "辟谣声明应先陈述事实；本稿以传言开头：“網傳”" in reply
    assert "检查类型：结束声明。" in chat.say("dave", "vet closing 召回已全部完成，再次向受影响的用户致歉。", room).message.plain()


def test_the_report_files_show_each_versions_kind(chat, clock, room, tmp_path):
    chat.say("carol", f"draft {FIRST}", room)
    approve(chat, room, 1)
    chat.say("carol", f"draft rebuttal {REBUTTAL_FACT_FIRST}", room)
    with session(chat.engine) as db:
        markdown, html = (path.read_text(encoding="utf-8") for path in write_report(db, chat.config, 1, clock.now(), tmp_path))
    assert "### v1 · holding statement · " in markdown and "### v2 · rebuttal · " in markdown
    assert "<h3>v1 · holding statement · " in html and "<h3>v2 · rebuttal · " in html


def test_a_first_draft_redone_after_a_rejection_is_still_a_holding_statement(chat, room):
    chat.say("carol", f"draft {FIRST}", room)
    assert chat.say("bob", "reject Too long", room).ok
    again = chat.say("carol", f"draft {FIRST}", room).message.plain()
    assert "Draft v2 of #1" in again and "Kind: holding statement" in again
