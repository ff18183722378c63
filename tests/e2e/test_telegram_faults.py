"""Telegram answering 429 (with retry_after) and 500/502, or refusing for want of rights: every effect arrives exactly once
in the end, nothing is left in the outbox, and the group is told what to change."""

from collections import Counter

import pytest

from tests.e2e import telegram_process
from tests.e2e.telegram_process import ALICE, BOB, CAROL, GROUP

start_telegram_bot = telegram_process.start_telegram_bot  # the fixture: a factory of bots

LINE = "We are sorry for the worry & <b>care</b> 😀 电池安全. Next update at 11:00."
# Retries that do not grow: seven waits of about 2 s add up to 14 s (the default spreads them over half an hour, so an
# effect failing twice in a row held its lane for 6 s, three times for 17 s). The same 8 attempts: nothing is given up
# sooner. A real setting (README: ONEVOICE_DELIVERY_GIVE_UP_SECONDS), read by the process at start.
STEADY_RETRIES = {"ONEVOICE_DELIVERY_GIVE_UP_SECONDS": "14"}
# PTB's AIORateLimiter (max_retries=0: the outbox retries instead) logs each 429 it passes on with a traceback
RATE_LIMIT_LOG = "Rate limit hit after maximum of 0 retries"


def duplicates(bot, thread: int) -> list[str]:
    """Texts the bot posted more than once in the topic."""
    counts = Counter(m["text"] for m in bot.fake.messages_in(GROUP, thread))
    return [text[:80] for text, n in counts.items() if n > 1]


async def run_command(bot, user: int, text: str, thread: int | None = None) -> None:
    """A command, waiting until it is handled (its answer may be lost to a fault: answers are not in the outbox)."""
    await bot.command(user, text, thread, wait=30)


async def draft_approve_publish(bot, thread: int) -> None:
    await run_command(bot, CAROL, f"/draft {LINE}", thread)
    await run_command(bot, BOB, "/approve v1", thread)
    await run_command(bot, ALICE, "/approve v1", thread)
    assert bot.query("SELECT state FROM statement") == [("approved",)]
    await run_command(bot, CAROL, "/publish announcements", thread)
    sent = "SELECT count(*) FROM publication WHERE target = 'announcements' AND state = 'sent'"
    done = lambda: bot.query(sent) == [(1,)] and bot.pending_effects() == 0  # noqa: E731
    await bot.wait_for(done, 60, "the publication sent and the outbox drained")


def delivered_exactly_once(bot) -> None:
    fake = bot.fake
    assert {state for (state,) in bot.query("SELECT state FROM outbox")} == {"sent"}  # none pending, none given up
    assert [m["text"] for m in fake.messages_in(fake.channel_id)] == [LINE]  # published once, byte for byte
    assert [t["name"] for t in fake.topics.values()] == ["crisis-20260302-battery-overheating"]
    (thread,) = fake.topics
    pins = bot.pins_in(thread)
    assert len(pins) == len(set(pins)) == 2  # the card and the approved line, each pinned once
    assert "#1 Battery overheating" in fake.current_message(GROUP, pins[0])["text"]
    assert "Approved line of #1 — v1" in fake.current_message(GROUP, pins[1])["text"]
    assert not duplicates(bot, thread)
    briefs = Counter((m["chat_id"], m["plain"].split("\n")[0]) for m in fake.messages if m["plain"].startswith("You are "))
    assert set(briefs.values()) == {1} and len(briefs) == 7  # one duty DM per role given at declare
    requests = Counter(m["chat_id"] for m in fake.messages if m["plain"].startswith("📝 Draft v1") and m["chat_id"] > 0)
    assert requests == {ALICE: 1, BOB: 1}  # the approvers asked, once each


async def test_every_effect_is_delivered_exactly_once_when_30_percent_of_message_calls_fail(start_telegram_bot, monkeypatch):
    for name, value in STEADY_RETRIES.items():
        monkeypatch.setenv(name, value)
    bot = await start_telegram_bot("polling")
    fake = bot.fake
    bot.allowed_tracebacks.append(RATE_LIMIT_LOG)
    thread = await bot.declare()  # the topic opened and the card pinned (faults during that have their own test)
    fake.seed, fake.fail_ratio = 20260302, 0.3
    fake.fail_methods = {"sendMessage", "editMessageText"}  # each effect's call that can be repeated safely
    await draft_approve_publish(bot, thread)
    print(f"{len(fake.calls)} Bot API calls, {fake._ratio_faults} of them answered 429 or 500/502 (seed {fake.seed})")
    assert fake._ratio_faults >= 3  # the faults really happened (this seed fails 4 of its first 10 draws)
    delivered_exactly_once(bot)


async def test_every_effect_is_delivered_exactly_once_when_30_percent_of_all_calls_fail(start_telegram_bot, monkeypatch):
    for name, value in STEADY_RETRIES.items():
        monkeypatch.setenv(name, value)
    bot = await start_telegram_bot("webhook")  # no getUpdates: the faults fall on the same calls on every run
    fake = bot.fake
    bot.allowed_tracebacks.append(RATE_LIMIT_LOG)
    fake.seed, fake.fail_ratio = 20260315, 0.3  # this seed fails the card's sendMessage right after createForumTopic
    await run_command(bot, ALICE, "/crisis declare product-quality sev2 Battery overheating")
    await bot.wait_for(lambda: fake.pins, 30, "the card pinned")
    assert len(fake.topics) == 1, fake.topics  # fails here today, in seconds; once fixed, the whole scenario runs
    (thread,) = fake.topics
    await draft_approve_publish(bot, thread)
    print(f"{len(fake.calls)} Bot API calls, {fake._ratio_faults} of them answered 429 or 500/502 (seed {fake.seed})")
    assert fake._ratio_faults >= 5
    delivered_exactly_once(bot)


async def test_a_failed_pin_of_the_card_opens_no_second_topic(start_telegram_bot):
    bot = await start_telegram_bot("polling")
    bot.fake.fail_next("pinChatMessage", 500)
    await run_command(bot, ALICE, "/crisis declare product-quality sev2 Battery overheating")
    await bot.wait_for(lambda: bot.fake.pins and bot.pending_effects() == 0, 20, "the card pinned and the outbox drained")
    cards = [m for m in bot.fake.messages if m["plain"].startswith("🟠 #1 Battery overheating")]
    assert len(bot.fake.topics) == 1 and len(cards) == 1


async def test_a_failed_pin_of_the_approved_line_posts_it_once(start_telegram_bot):
    bot = await start_telegram_bot("polling")
    thread = await bot.declare(head="product-quality sev4")  # the commander alone approves
    await run_command(bot, CAROL, f"/draft {LINE}", thread)
    bot.fake.fail_next("pinChatMessage", 500)
    await run_command(bot, ALICE, "/approve v1", thread)
    await bot.wait_for(lambda: len(bot.pins_in(thread)) == 2 and bot.pending_effects() == 0, 20, "the line pinned")
    assert sum("Approved line of #1" in t for t in bot.texts(GROUP, thread)) == 1


# ---- a group where the bot may not open topics


RIGHTS = {
    "no right to manage topics": ({"bot_can_manage_topics": False}, "Not enough rights to create a topic"),
    "not a forum": ({"forum": False}, "the group is not a forum"),
}


@pytest.mark.parametrize("case", RIGHTS)
async def test_declare_without_the_right_to_open_topics_says_what_to_change_in_the_group_settings(start_telegram_bot, case):
    options, reason = RIGHTS[case]
    bot = await start_telegram_bot("polling", **options)
    bot.allowed_tracebacks.append("delivery of outbox")  # the incident's later effects are given up: there is no room
    await run_command(bot, ALICE, "/crisis declare product-quality sev2 Battery overheating")
    told = await bot.message(GROUP, "I could not open a topic for incident #1", timeout=15)
    assert told["message_thread_id"] is None and reason in told["plain"]
    assert "In the group settings turn on Topics" in told["plain"] and "administrator with the right to manage topics" in told["plain"]
    assert not bot.fake.topics and bot.query("SELECT phase FROM incident") == [("detected",)]  # the incident is open meanwhile
    given_up = lambda: bot.query("SELECT state FROM outbox WHERE kind = 'open_room'") == [("failed",)]  # noqa: E731
    await bot.wait_for(given_up, 10, "the topic given up")  # recorded just after the group was told
    assert sum("I could not open a topic" in m["plain"] for m in bot.fake.messages) == 1


async def test_an_incident_without_a_topic_still_gets_its_messages_in_the_group(start_telegram_bot):
    bot = await start_telegram_bot("polling", bot_can_manage_topics=False)
    bot.allowed_tracebacks.append("delivery of outbox")  # checked in the test itself
    await run_command(bot, ALICE, "/crisis declare product-quality sev2 Battery overheating")
    await bot.message(GROUP, "I could not open a topic for incident #1", timeout=15)
    tried = "SELECT count(*) FROM outbox WHERE kind = 'invite' AND (state != 'pending' OR attempts > 0)"
    await bot.wait_for(lambda: bot.query(tried) == [(1,)], 15, "the invite tried")
    assert "TypeError" not in bot.output(), bot.output()[-2000:]
    await bot.wait_for(lambda: bot.pending_effects() == 0, 10, "the outbox drained")
