"""Edited Telegram messages never run commands (issue 15, finding 3), by long polling and by webhook.

An edit of a command comes as an `edited_message` update for the same message. OneVoice tells its author once, by DM,
that an edit is not a new command, and changes nothing: no second incident, no extra task, no approval of a newer draft.
"""

import pytest
import pytest_asyncio

from tests.e2e.run_process import serving
from tests.e2e.telegram_process import ALICE, CAROL, GROUP, MODES, TelegramBot

NOT_RUN = "Editing a message does not run its command again"

# One process per mode serves the whole module (a start costs seconds on a loaded machine), as in test_telegram.py:
# each test declares an incident of its own and counts what changed since it began.
shared = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=MODES)
async def telegram_bot(request, tmp_path_factory):
    """The starter team's bot on the fake Telegram, by long polling and by webhook, for the whole module."""
    async with serving(TelegramBot(tmp_path_factory.mktemp(request.param), request.param)) as bot:
        yield bot


def told(bot, user: int) -> int:
    """How many times `user` was told by DM that an edit runs nothing."""
    return sum(NOT_RUN in m["plain"] for m in bot.fake.messages_in(user))


def incidents(bot) -> list[int]:
    return [n for (n,) in bot.query("SELECT id FROM incident ORDER BY id")]


async def edit(bot, update: dict, text: str, times_told: int) -> dict:
    """The author edits the message of `update` to `text`; wait for the DM that says it runs nothing; the edit's update."""
    edited = bot.fake.edit_update(update, text)
    await bot.send(edited)
    user = update["message"]["from"]["id"]
    await bot.wait_for(lambda: told(bot, user) == times_told, 10, f"the answer to edit {times_told}")
    return edited


@shared
async def test_editing_a_declare_opens_no_second_incident_and_a_redelivered_edit_answers_nothing_more(telegram_bot):
    bot = telegram_bot
    before, topics, was_told = incidents(bot), set(bot.topics()), told(bot, ALICE)
    declared = await bot.command(ALICE, "/crisis declare product-quality sev2 Battery overheating")
    thread = await bot.wait_for(lambda: next(iter(set(bot.topics()) - topics), None), 15, "the topic")
    edited = await edit(bot, declared, "/crisis declare product-quality sev1 Battery overheating badly", was_told + 1)
    await bot.send(edited)  # Telegram sends the same edit again (no 200 seen): still one answer
    await bot.command(ALICE, "/crisis status", thread)  # handled after the redelivery
    (n,) = set(incidents(bot)) - set(before)  # one incident…
    status = await bot.message(GROUP, f"#{n} Battery overheating", thread)
    assert "Battery overheating badly" not in bot.current(status)["text"]
    assert told(bot, ALICE) == was_told + 1
    assert set(bot.topics()) - topics == {thread}  # …one topic
    assert not any("badly" in m["plain"] for m in bot.fake.messages)  # the edited title is said nowhere


@shared
async def test_editing_a_task_three_times_leaves_one_task(telegram_bot):
    bot = telegram_bot
    thread = await bot.declare("Battery tasks")
    was_told = told(bot, ALICE)
    task = await bot.command(ALICE, "/task call the regulator", thread)
    for n, text in enumerate(["/task call the regulator now", "/task call the regulator today", "/task call the regulator back"], 1):
        await edit(bot, task, text, was_told + n)
    await bot.command(ALICE, "/tasks all", thread)
    listing = await bot.message(ALICE, "call the regulator")
    lines = [line for line in bot.current(listing)["text"].splitlines() if "call the regulator" in line]
    assert len(lines) == 1 and " call the regulator · " in lines[0], lines
    edited_titles = ("regulator now", "regulator today", "regulator back")
    assert not any(title in m["plain"] for title in edited_titles for m in bot.fake.messages)  # said nowhere: never a task


@shared
async def test_an_edited_old_approve_approves_nothing(telegram_bot):
    bot = telegram_bot
    thread = await bot.declare("Battery approvals", head="product-quality sev4")  # sev4: the commander alone approves
    n = bot.query("SELECT id FROM incident WHERE title = 'Battery approvals'")[0][0]
    was_told = told(bot, ALICE)
    await bot.command(CAROL, "/draft We are sorry for the worry. Next update at 11:00.", thread)
    approve = await bot.command(ALICE, "/approve", thread)  # the newest draft: v1
    await bot.message(GROUP, f"Approved line of #{n} — v1", thread, timeout=15)
    await bot.command(CAROL, "/draft We are sorry. The lot is recalled; next update at 12:00.", thread)
    await edit(bot, approve, "/approve ", was_told + 1)  # re-run, it would approve v2, the newest draft now
    await bot.command(ALICE, "/status", thread)
    await bot.message(GROUP, f"#{n} Battery approvals", thread)
    assert not any(f"Approved line of #{n} — v2" in text for text in bot.texts(GROUP, thread))
    await bot.command(ALICE, "/approve v2", thread)  # v2 was still waiting for its approval
    await bot.message(GROUP, f"Approved line of #{n} — v2", thread, timeout=15)
