"""Fixtures shared by the delivery tests of this folder."""

import pytest

from bot.slack import delivery as slack_delivery
from config.model import RoomHandles
from tests.bot.telegram_world import TelegramWorld, database_url
from tests.bot.test_delivery_faults import CONFIG, Workspace
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def slack_with_triage(tmp_path, monkeypatch):
    """OneVoice on a fake Slack whose triage room the bot is in (where notices go when an incident has no room)."""
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    async with FakeSlack() as fake:
        fake.add_channel("general", channel_id="C0GENERAL")
        fake.add_channel("triage", channel_id="C0TRIAGE", members=[fake.bot_user_id])
        space = Workspace(fake, tmp_path, config=CONFIG.model_copy(update={"triage_room": RoomHandles(slack="C0TRIAGE")}))
        yield space
        space.bot.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A database URL for a Telegram world, on SQLite and PostgreSQL both."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def world(database):
    """A Telegram world on that database (files with a world of their own shape keep theirs)."""
    world = TelegramWorld(database)
    yield world
    world.close()
