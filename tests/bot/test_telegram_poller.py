"""The Telegram poller against the fake Bot API: an update is confirmed (the offset passed to getUpdates) only once it
is decided, in order; a failing update is tried again, then skipped; 409 and 429 are waited out; stop is prompt."""

import asyncio
import time

import pytest
from telegram.ext import Application, CommandHandler

from bot.telegram import poller as telegram_poller
from bot.telegram.poller import TelegramPoller
from tests.fakes.telegram_api import FakeTelegram

USER = 100001


@pytest.fixture
async def fake():
    async with FakeTelegram() as fake:
        fake.poll_cap = 0.3
        yield fake
    assert not fake.internal_errors, fake.internal_errors


async def until(condition, timeout: float = 10, what: str = ""):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def polling(fake: FakeTelegram, handler) -> tuple[Application, TelegramPoller]:
    app = Application.builder().token(fake.token).base_url(fake.api_base).updater(None).build()
    app.add_handler(CommandHandler(["slow", "fast", "boom"], handler))
    await app.initialize()
    poller = TelegramPoller(app, poll_seconds=0.3)
    await poller.start()
    return app, poller


async def test_an_update_is_confirmed_only_after_it_is_decided_and_in_order(fake, monkeypatch):
    monkeypatch.setattr(telegram_poller, "BACKOFF_FIRST", 0.05)
    seen, gate = [], asyncio.Event()

    async def handler(update, _context):
        seen.append(update.message.text)
        if update.message.text == "/slow":
            await gate.wait()
        if update.message.text == "/boom":
            raise RuntimeError("a handler that fails")

    slow, fast = fake.command_update(USER, "/slow"), fake.command_update(USER, "/fast")
    fake.queue_update(slow)
    fake.queue_update(fast)
    app, poller = await polling(fake, handler)
    try:
        await until(lambda: seen == ["/slow"], what="the first update handled")
        assert fake.confirmed <= slow["update_id"] and len(fake.pending) == 2  # still Telegram's to hand out again
        gate.set()
        await until(lambda: fake.confirmed > fast["update_id"], what="both confirmed")
        assert seen == ["/slow", "/fast"]

        boom, after = fake.command_update(USER, "/boom"), fake.command_update(USER, "/fast")
        fake.queue_update(boom)
        fake.queue_update(after)
        await until(lambda: fake.confirmed > after["update_id"], what="the update after a failing one confirmed")
        assert seen[2:] == ["/boom"] * telegram_poller.ATTEMPTS + ["/fast"]  # tried again, then skipped, never overtaken
    finally:
        await poller.stop()
        await app.shutdown()


async def test_conflict_and_too_many_requests_are_waited_out_and_stop_confirms_what_was_decided(fake, monkeypatch):
    monkeypatch.setattr(telegram_poller, "BACKOFF_FIRST", 0.05)
    seen = []

    async def handler(update, _context):
        seen.append(update.update_id)

    fake.fail_next("getUpdates", 409, description="Conflict: terminated by other getUpdates request")
    fake.fail_next("getUpdates", 429, retry_after=1)
    fake.fail_next("getUpdates", 502)
    update = fake.command_update(USER, "/fast")
    fake.queue_update(update)
    app, poller = await polling(fake, handler)
    try:
        await until(lambda: seen == [update["update_id"]], what="the update handled after the faults")
        polls = [at for (method, _params), at in zip(fake.calls, fake.call_times, strict=True) if method == "getUpdates"]
        assert len(polls) >= 4 and polls[2] - polls[1] >= 0.9  # retry_after 1 s was respected
    finally:
        await poller.stop()  # in the middle of a long poll: cancelled, and the decided offset confirmed
        await app.shutdown()
    assert fake.confirmed == update["update_id"] + 1 and fake.pending == []
