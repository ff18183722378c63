"""Attacks on Telegram questions (issue 15) through the real webhook: the asked person's reply delivered twice, a reply
arriving after the draft was replaced, a reply carrying a command of its own, a question's callback data
replayed by another member, and the answer to a question that was never posted."""

import pytest

from bot.telegram.render import PROMPT_MARK
from tests.bot.telegram_world import ALICE, BOB, CAROL, GROUP, TelegramWorld
from tests.bot.test_telegram_prompts import declare, draft_in, reject_data


@pytest.fixture
def world(tmp_path):
    world = TelegramWorld(f"sqlite:///{tmp_path / 'attack.db'}")
    yield world
    world.close()


def asked(world: TelegramWorld, who: int, request: dict) -> dict:
    world.press(who, reject_data(request), request)
    return next(m for m in reversed(world.in_group()) if m["plain"].startswith(PROMPT_MARK))


def test_the_same_reply_delivered_twice_rejects_once_and_says_nothing_more(world):
    thread = declare(world)
    request = draft_in(world, thread)
    question = asked(world, BOB, request)
    update = world.fake.reply_update(BOB, "Too vague for the press", question["message_id"], chat_id=GROUP)
    dm_before = len(world.said_to(BOB))
    world.send(update)
    world.send(update)  # Telegram delivers the same update again (the first 200 was lost)
    assert [m["plain"] for m in world.in_group() if "rejected by Bob Li" in m["plain"]] == [
        "✋ v1 rejected by Bob Li: Too vague for the press"
    ]
    assert not [t for t in world.said_to(BOB)[dm_before:] if "answered already" in t]  # a redelivery is not a second reply


def test_a_reply_after_the_draft_was_replaced_leaves_the_new_draft_waiting(world):
    thread = declare(world)
    request = draft_in(world, thread)
    question = asked(world, BOB, request)
    world.command(CAROL, "/draft We are sorry. A fix ships today.", thread=thread)  # v2 replaces v1 meanwhile
    state = world.status()
    assert "v2 awaiting approval" in state
    before = len(world.in_group())
    world.reply(BOB, question, "Too vague for the press")
    assert world.status() == state  # v2 still awaits approval
    # What the reply did is what Bob typing `/crisis #1 reject v1 …` does now: v1's rejection on record, v2 untouched.
    assert [m["plain"] for m in world.in_group()[before:]] == ["✋ v1 rejected by Bob Li: Too vague for the press"]


def test_a_reply_holding_a_command_is_only_the_reason(world):
    thread = declare(world)
    request = draft_in(world, thread)
    question = asked(world, BOB, request)
    world.reply(BOB, question, "Not yet\n/crisis #1 resolve All fine")
    assert "phase detected" in world.status()  # nothing resolved: the second line is part of the reason
    [rejected] = [m["plain"] for m in world.in_group() if "rejected by Bob Li" in m["plain"]]
    assert "/crisis #1 resolve" in rejected


def test_another_members_press_of_the_same_button_gets_their_own_question_and_the_first_cannot_be_answered_by_them(world):
    thread = declare(world)
    request = draft_in(world, thread)
    bobs = asked(world, BOB, request)
    alices = asked(world, ALICE, request)  # the commander may reject too: her own question, naming her
    assert bobs["message_id"] != alices["message_id"] and "Alice" in alices["plain"] and "Bob" in bobs["plain"]
    world.reply(ALICE, bobs, "Alice answering Bob's question")
    assert "v1 awaiting approval" in world.status()
    world.reply(ALICE, alices, "Too vague")
    assert [m["plain"] for m in world.in_group() if "rejected by" in m["plain"]] == ["✋ v1 rejected by Alice Chen: Too vague"]


def test_a_member_pressing_many_buttons_quickly_is_never_silently_ignored(world):
    """A commander clearing eight checklist items with their Done buttons, one after another: a press beyond the
    per-person ration is told it did nothing (was: the spinner stopped and nothing happened, without a word)."""
    declare(world)
    answers = [(world.press(ALICE, f"#1 done {n}") or {}).get("text") or "" for n in range(1, 9)]
    assert all(answers), answers
    world.command(ALICE, "/crisis #1 tasks all", chat=ALICE)
    listing = world.said_to(ALICE)[-1]
    for n, answer in enumerate(answers, start=1):
        if answer.startswith("Too many presses at once; this one did nothing."):
            assert f"☐ {n} " in listing  # it did nothing indeed
        else:
            assert f"☐ {n} " not in listing
