"""`POST /telegram/webhook` answers only once the update is decided: its 200 comes after the command has run, and an
update whose handling failed gets a 500, so Telegram sends it again, and then it runs once."""

import httpx
import pytest
from telegram.ext import Application

from bot.app import OneVoice
from bot.http import build_app
from bot.telegram.delivery import TelegramAdapter
from bot.telegram.front import TelegramFront
from config.settings import Settings
from tests.conftest import seeded
from tests.fakes.telegram_api import FakeTelegram
from tests.templates import copy_of_starter

SECRET = "webhook-test-secret"
GROUP, ALICE = -1001234567890, 100001


@pytest.fixture
async def webhook(tmp_path):
    """(fake Telegram, OneVoice, an HTTP client on the app); Telegram attached by webhook, nothing delivered unless asked."""
    config = copy_of_starter()
    config = config.model_copy(update={"telegram": config.telegram.model_copy(update={"crisis_group": GROUP})})
    async with FakeTelegram(crisis_group=GROUP) as fake:
        fake.started_bot.add(ALICE)
        bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'onevoice.db'}")), config=config)
        application = Application.builder().token(fake.token).base_url(fake.api_base).updater(None).build()
        TelegramFront(bot, application)
        await application.initialize()
        bot.attach(TelegramAdapter(application.bot, config))
        app = build_app(bot, telegram=application, telegram_secret=SECRET)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://onevoice.test") as http:
            yield fake, bot, http
        await application.shutdown()
        bot.engine.dispose()


async def post(http: httpx.AsyncClient, update: dict) -> int:
    response = await http.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    return response.status_code


async def test_the_200_comes_after_the_command_has_run_and_its_answer_is_sent(webhook):
    fake, _bot, http = webhook
    update = fake.command_update(ALICE, "/crisis list", chat_id=ALICE)
    assert await post(http, update) == 200
    assert any("No open incidents" in m["plain"] for m in fake.messages_in(ALICE))  # answered already


async def test_a_failed_update_gets_a_500_and_its_redelivery_runs_once(webhook, monkeypatch):
    fake, bot, http = webhook
    handle, calls = bot.handle, []

    def failing_once(command, answer=None):
        calls.append(command.event_id)
        if len(calls) == 1:
            raise RuntimeError("the worker thread died")
        return handle(command, answer)

    monkeypatch.setattr(bot, "handle", failing_once)
    update = fake.command_update(ALICE, "/crisis declare product-quality sev2 Battery overheating")
    assert await post(http, update) == 500  # not acknowledged: Telegram sends it again
    assert not fake.messages  # nothing was said, nothing decided
    assert await post(http, update) == 200
    assert await post(http, update) == 200  # one redelivery too many: its dedup key answers it, nothing runs twice
    await bot.deliver()
    assert len(fake.topics) == 1 and sum("Declared #1" in m["plain"] for m in fake.messages) == 1
    assert not any("Declared #2" in m["plain"] for m in fake.messages)
