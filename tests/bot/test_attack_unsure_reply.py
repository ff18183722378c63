"""Attack: a reply to the bot's question while the database is away is treated like a typed command that met it: not
acknowledged (Telegram sends it again), never silently dropped."""

import asyncio
from datetime import timedelta

from bot.outbox.unsure import UNSURE_FOR
from bot.telegram.render import PROMPT_MARK
from tests.bot.telegram_world import BOB, GROUP, OUTSIDER
from tests.bot.test_telegram_commit_drop import connection, webhook  # noqa: F401  (the fixture that drops the database)
from tests.bot.test_telegram_prompts import declare, draft_in, reject_data, world  # noqa: F401


def test_a_reply_to_a_question_while_the_database_is_away_is_not_acknowledged(world, connection):  # noqa: F811
    thread = declare(world)
    request = draft_in(world, thread)
    world.press(BOB, reject_data(request), request)
    question = next(m for m in world.in_group() if m["plain"].startswith(PROMPT_MARK))
    update = world.fake.reply_update(BOB, "Too vague for the press", question["message_id"], chat_id=question["chat_id"])
    connection.down = 10_000
    status = world.run(webhook(world, update)())
    world.run(asyncio.sleep(0.5))
    connection.down = 0
    assert status != 200 or any("cannot be reached" in s for s in world.said_to(BOB)), status
    world.send(update)  # Telegram's redelivery, the database back
    assert "v1 awaiting approval" not in world.status()


def approve_data(request: dict) -> str:
    return next(b["callback_data"] for row in request["reply_markup"]["inline_keyboard"] for b in row if b["text"].startswith("Approve"))


def test_a_press_while_the_database_is_away_is_not_acknowledged_and_its_redelivery_approves_once(world, connection):  # noqa: F811
    thread = declare(world)
    request = draft_in(world, thread)
    update = world.fake.callback_update(BOB, approve_data(request), chat_id=GROUP, message_id=request["message_id"])
    query = update["callback_query"]["id"]
    post = webhook(world, update)
    connection.down = 10_000
    assert world.run(post()) == 500  # Telegram sends it again
    assert [a for a in world.fake.callback_answers if a["callback_query_id"] == query] == []  # nothing false said
    connection.down = 0
    assert world.run(post()) == 200
    assert world.run(post()) == 200  # a second redelivery runs nothing more
    world.run(world.bot.deliver())
    answers = [a for a in world.fake.callback_answers if a["callback_query_id"] == query]
    assert len([m for m in world.in_group() if m["plain"].startswith("👍 Bob Li approved v1")]) == 1
    assert len(answers) == 1, answers  # answered once, not once per redelivery


def test_an_outsiders_command_while_the_database_is_away_posts_nothing_in_the_group(world, connection):  # noqa: F811
    declare(world)
    before = len(world.in_group())
    update = world.fake.command_update(OUTSIDER, "/crisis #1 resolve", chat_id=GROUP)
    post = webhook(world, update)
    connection.down = 10_000
    world.run(post())
    world.clock.advance(UNSURE_FOR + timedelta(seconds=1))
    world.run(post())  # Telegram's redelivery, the database still away
    connection.down = 0
    assert world.in_group()[before:] == []  # an outsider's command is never recorded, and never answered in the group
