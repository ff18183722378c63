"""Wave-2 attacks on the merged work: each test fails without the fix it names."""

import pytest

from tests.handlers.desk_chat import mails
from tests.handlers.nudge_timeline import DRAFT, TEAM
from tests.handlers.reaction_world import World


def owing_a_countersignature(chat) -> str:
    """#1 approved by the commander alone at sev4, then raised to sev1: legal must countersign before it goes out."""
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    assert chat.say("carol", f"draft {DRAFT}", room).ok
    assert chat.say("alice", "approve v1", room).ok
    assert chat.say("alice", "sev 1", room).ok
    for person in TEAM:
        chat.say(person, "ack", room)
    assert not chat.say("carol", "publish", room).ok  # the front door is shut
    return room


@pytest.mark.parametrize(
    "who, line",
    [
        ("carol", "published weibo https://weibo.example/official/1"),
        ("carol", "published weibo"),  # recorded without a link
        ("erin", "notify regulators"),
        ("erin", "notify regulators v1"),
        ("carol", "answer q1"),
        ("carol", "answer q1 v1"),
    ],
)
def test_a_version_owing_a_countersignature_goes_out_by_no_side_door(chat, line, who):
    room = owing_a_countersignature(chat)
    assert chat.say("dave", "inquiry Reuters email desk@reuters.example Is it safe?", room).ok
    before = chat.snapshot()
    reply = chat.say(who, line, room)
    assert not reply.ok, reply.message.plain()
    assert "cannot be published until it is countersigned by Legal counsel" in reply.message.plain()
    assert chat.snapshot() == before and mails(chat) == []
    assert chat.say("bob", "approve v1", room).ok  # once signed, the same path works
    assert chat.say(who, line, room).ok


@pytest.mark.parametrize(
    "text, quote",
    [
        ("The fire was probabIy caused by a faulty charger.", "probabIy"),  # capital I drawn as l
        ("The fire was IikeIy caused by a faulty charger.", "IikeIy"),
        ("The fire was probab1y caused by a faulty charger.", "probab1y"),
        ("The fire was pr0bably caused by a faulty charger.", "pr0bably"),
        ("Asked about refunds, we have n0 c0mment today.", "n0 c0mment"),
    ],
)
def test_an_ascii_look_alike_inside_a_word_hides_no_phrase_from_the_wording_check(chat, text, quote):
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    asked = chat.say("carol", f"draft {text}", room).message.plain()
    assert f"Speculation: “{quote}”" in asked or f"“No comment”: “{quote}”" in asked, asked


def test_the_pronoun_and_figures_are_not_read_as_look_alikes(chat):
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    asked = chat.say("carol", "draft It is 10:30. In Lot 1 we recalled 100 units; I confirm it.", room).message.plain()
    assert "Speculation" not in asked and "No comment" not in asked, asked


def test_a_real_signal_reaches_no_drill_by_hand_by_button_or_by_naming_its_claim(chat, clock):
    world = World(chat, clock)
    world.signal(5, incident=1, dedup_key="a", volume=10, sentiment=-0.5, title="PB-20 smoke")
    assert chat.say("alice", "drill product-quality").ok  # #2
    assert chat.say("alice", "#2 claim Power banks explode reach 10", world.room).ok
    before = chat.snapshot()
    for line in ("#2 attach 1", "#2 claim --signal 1"):
        refused = chat.say("alice", line, world.room)
        assert not refused.ok and "#2 is a drill: its reaction comes from its injects, never from real signals." in refused.message.plain()
    assert chat.snapshot() == before
    assert "+0:00 ████████████      10  −0.50" in chat.say("erin", "reaction", world.room).message.plain()  # #1 keeps it
    world.signal(10, incident=2, claim="c1", volume=5000, title="drill claim")
    assert "reach 10;" in chat.say("alice", "#2 claims", world.room).message.plain()  # the outside adds nothing to a drill's claim


def test_the_full_width_bar_a_chinese_input_method_types_ends_the_headline_as_the_ascii_one_does(chat):
    _incident, room = chat.declare(line="declare product-quality sev4 Battery overheating")
    asked = chat.say("carol", "draft PB-20 充电宝召回｜我们对充电宝过热深表歉意。下一次更新 11:00。", room).message.plain()
    assert "Public headline: PB-20 充电宝召回" in asked, asked
    assert "\n我们对充电宝过热深表歉意。下一次更新 11:00。" in asked and "召回｜" not in asked
