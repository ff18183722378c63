"""Telegram questions belong to the person who pressed (issue 15, findings 1 and 2), through the real webhook: callback
data is vetted as the presser's own typed command before anything is posted, refusals are private, only the presser's
first reply in time counts, and questions never spend the group budget incident traffic needs."""

from datetime import timedelta

import pytest

from bot.telegram.limits import GROUP_RATE
from bot.telegram.render import PROMPT_MARK
from tests.bot.telegram_world import ALICE, BOB, CAROL, DAVE, ERIN, GROUP, OUTSIDER, TelegramWorld, database_url

FORGED = "?x\nLegal: confirm the recall by replying OK\n/crisis #1 resolve"  # finding 1, within 64 bytes
assert len(FORGED.encode()) <= 64


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, tmp_path):
    with database_url(request.param, tmp_path) as url:
        world = TelegramWorld(url)
        yield world
        world.close()


@pytest.fixture
def limited(tmp_path):
    world = TelegramWorld(f"sqlite:///{tmp_path / 'limited.db'}", limited=True)
    yield world
    world.close()


def declare(world: TelegramWorld, title: str = "Battery overheating", severity: str = "sev2") -> int:
    """Alice declares in the crisis group; the new topic's thread id."""
    world.command(ALICE, f"/crisis declare product-quality {severity} {title}")
    return max(world.fake.topics)


def draft_in(world: TelegramWorld, thread: int) -> dict:
    """Carol drafts v1 in the topic; the approval request posted there (with its Approve / Reject buttons)."""
    world.command(CAROL, "/draft We are sorry for the worry. Next update at 11:00.", thread=thread)
    return next(m for m in reversed(world.fake.messages_in(GROUP, thread)) if "Draft v1" in m["plain"])


def reject_data(request: dict) -> str:
    return next(b["callback_data"] for row in request["reply_markup"]["inline_keyboard"] for b in row if b["text"].startswith("Reject"))


def test_an_outsiders_forged_question_posts_nothing_and_a_reply_to_any_bot_message_runs_nothing(world):
    thread = declare(world)
    before = len(world.in_group())
    answer = world.press(OUTSIDER, FORGED, chat=GROUP)
    assert "not in the team model" in answer["text"]  # told privately, in the button's own answer
    assert len(world.in_group()) == before and not any("confirm the recall" in m["plain"] for m in world.fake.messages)
    # The bot's own message in the old question's shape (as the old bot posted it) is no question: the commander's "OK" does nothing.
    old_shape = f"{PROMPT_MARK} Reply to this message with the reason for:\n/crisis #1 resolve"
    posted = world.run(world.application.bot.send_message(GROUP, old_shape, message_thread_id=thread))
    world.reply(ALICE, {"chat_id": GROUP, "message_id": posted.message_id}, "OK")
    world.reply(ALICE, world.in_group()[-1], "OK")
    assert "phase detected" in world.status()
    assert not world.fake.open_queries


@pytest.mark.parametrize(
    ("user", "data", "refusal"),
    [
        (CAROL, "?#1 resolve", "Only Incident commander may use resolve in incident #1."),  # a member without the permission
        (DAVE, "?#1 reject v1", "Only the approvers of #1 may decide on a draft"),  # decided by the verb itself, rehearsed
        (CAROL, "?#1 reject v1", "You wrote v1, so your own approval cannot count."),
        (BOB, FORGED, "Unknown command “x”"),  # a member's forged data: read as what they typed
        (BOB, "?#9 reject v1", "There is no incident #9."),
        (ERIN, "?#1 reject v1\u202e", "invisible control characters"),
    ],
)
def test_a_question_the_presser_may_not_ask_is_refused_privately_and_nothing_is_posted(world, user, data, refusal):
    thread = declare(world)
    draft_in(world, thread)
    before = len(world.fake.messages)
    answer = world.press(user, data, chat=GROUP)
    assert refusal in answer["text"]
    assert len(world.fake.messages) == before  # not in the group, not by DM: the button's answer was all
    assert "v1 awaiting approval" in world.status()


def test_a_question_names_its_presser_echoes_nothing_and_only_their_first_reply_counts(world):
    thread = declare(world)
    request = draft_in(world, thread)
    assert world.press(BOB, reject_data(request), request)["text"] is None
    question = world.in_group()[-1]
    assert question["message_thread_id"] == thread and question["reply_to_message_id"] == request["message_id"]
    assert question["plain"] == f"{PROMPT_MARK} Bob Li, reply to this message with your reason for reject in #1."
    assert question["reply_markup"] == {"force_reply": True, "selective": True}
    assert "tg://user?id=100002" in question["text"]  # Bob is mentioned: only his client offers the reply
    for someone_else in (ALICE, CAROL, ERIN, OUTSIDER):  # the commander, the author, the other legal counsel, a stranger
        world.reply(someone_else, question, "Fine by me")
    world.reply(BOB, request, "Not a reply to the question")
    assert "v1 awaiting approval" in world.status()
    world.reply(BOB, question, "Too vague for the press")
    assert "v1 awaiting approval" not in world.status()
    world.reply(BOB, question, "Changed my mind")  # the question was answered: a second reply is no second rejection
    rejected = [m["plain"] for m in world.in_group() if "rejected by Bob Li" in m["plain"]]
    assert rejected == ["✋ v1 rejected by Bob Li: Too vague for the press"]
    assert world.said_to(BOB)[-1] == "That question was answered already or has expired; press the button again."


def test_pressing_again_asks_once_and_a_late_reply_changes_nothing(world):
    thread = declare(world)
    request = draft_in(world, thread)
    world.press(BOB, reject_data(request), request)
    again = world.press(BOB, reject_data(request), request)
    assert again["text"] == "I have asked you already: reply to my question with the reason."
    questions = [m for m in world.in_group() if m["plain"].startswith(PROMPT_MARK)]
    assert len(questions) == 1
    world.clock.advance(timedelta(minutes=16))
    world.reply(BOB, questions[0], "Too vague")
    assert "v1 awaiting approval" in world.status()
    assert world.said_to(BOB)[-1].startswith("That question was answered already or has expired")


def test_an_outsiders_typed_commands_are_refused_by_dm_a_few_times_and_never_in_the_group(world):
    declare(world)
    before = len(world.in_group())
    world.command(OUTSIDER, "/crisis status")  # has never started the bot: no DM possible, and still nothing in the group
    assert len(world.in_group()) == before and not world.fake.messages_in(OUTSIDER)
    world.fake.started_bot.add(OUTSIDER)
    for _ in range(10):
        world.command(OUTSIDER, "/crisis #1 resolve")
    told = world.said_to(OUTSIDER)
    assert 1 <= len(told) <= 3 and all("not in the team model" in t for t in told)  # rationed: a few, not ten
    assert len(world.in_group()) == before
    assert "phase detected" in world.status()


def test_thirty_forged_presses_post_nothing_and_a_sev1_card_reaches_its_topic_within_the_budget(limited):
    for _ in range(30):
        answer = limited.press(OUTSIDER, FORGED, {"chat_id": GROUP, "message_id": 1})
        assert answer is not None and "confirm" not in (answer["text"] or "")
    assert limited.group_calls() == [] and not limited.fake.messages  # nothing in the group, nothing anywhere
    assert not limited.fake.open_queries  # every press got its private answer
    thread = declare(limited, "Recall", "sev1")
    request = draft_in(limited, thread)
    for _ in range(30):  # a member's ordinary client pressing Reject again and again
        limited.press(BOB, reject_data(request), request)
    second = declare(limited, "Second plant fire", "sev1")
    calls = limited.group_calls()
    questions = [m for m in limited.in_group() if m["plain"].startswith(PROMPT_MARK)]
    assert len(questions) == 1  # one question, however often the button was pressed
    card = next(m for m in limited.fake.messages_in(GROUP, second) if m["plain"].startswith("🔴 #2"))
    assert (GROUP, card["message_id"]) in limited.fake.pins
    # Every call that named the group fits in one minute's budget: the limiter never held the second card back.
    assert len(calls) <= GROUP_RATE, calls
    assert calls.count("sendMessage") == len(limited.in_group())


def test_a_question_is_not_posted_in_the_group_when_only_the_incident_reserve_is_left(limited):
    thread = declare(limited)
    request = draft_in(limited, thread)
    while len(limited.group_calls()) < 12:  # other incidents' traffic has used twelve of the minute's twenty
        limited.run(limited.application.bot.send_message(GROUP, "other incident traffic"))
    answer = limited.press(BOB, reject_data(request), request)
    assert answer["text"] == "Too many questions right now. Type the command with your reason instead: /crisis #1 reject …"
    assert not [m for m in limited.in_group() if m["plain"].startswith(PROMPT_MARK)]
    second = declare(limited, "Second plant fire", "sev1")  # the reserve is still there for a declaration
    assert any(m["plain"].startswith("🔴 #2") for m in limited.fake.messages_in(GROUP, second))
    assert len(limited.group_calls()) <= GROUP_RATE
    request_dm = next(m for m in reversed(limited.fake.messages_in(BOB)) if "Draft v1" in m["plain"])
    limited.press(BOB, reject_data(request_dm), request_dm)  # in a private chat a question costs the group nothing
    assert limited.fake.messages_in(BOB)[-1]["plain"].startswith(PROMPT_MARK)


def test_a_members_refused_command_in_the_group_is_answered_by_dm_or_not_at_all_never_in_the_group(world):
    thread = declare(world)
    before = len(world.in_group())
    world.command(CAROL, "/crisis resolve All fine", thread=thread)
    assert world.said_to(CAROL)[-1].startswith("Only Incident commander may use resolve in incident #1.")
    world.fake.started_bot.discard(CAROL)  # Carol blocks the bot: no DM possible, and still nothing in the group
    world.command(CAROL, "/crisis resolve All fine", thread=thread)
    assert len(world.in_group()) == before
    assert "phase detected" in world.status()
