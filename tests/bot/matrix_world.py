"""OneVoice with Matrix attached, in this process, against the fake homeserver (tests/bot/matrix_homeserver.py): the
client, the adapter, the front and the sync loop wired as `onevoice run` wires them (bot/run.py)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.app import OneVoice
from bot.matrix.client import make_client
from bot.matrix.delivery import MatrixAdapter
from bot.matrix.front import MatrixFront
from bot.matrix.rooms import Rooms
from bot.matrix.sync import MatrixSyncer
from config.model import Config, MatrixOptions
from config.settings import Settings
from handlers.core.ports import FakeClock
from tests.bot.matrix_homeserver import FakeHomeserver
from tests.conftest import seeded
from tests.templates import copy_of_starter

CRISIS = "!crisis:test"
SPACE = "!space:test"
NEWS = "!news:test"
STRANGER = "@mallory:test"


def matrix_team() -> Config:
    """The starter team, each member with a Matrix id (@alice:test …), the space, the crisis room and a news target."""
    config = copy_of_starter()
    for person in config.team.people.values():
        person.matrix = f"@{person.key}:test"
    config.matrix = MatrixOptions(space=SPACE, crisis_room=CRISIS)
    config.broadcast[0].matrix = NEWS
    return config


class MatrixWorld:
    """The bot, its Matrix parts, and the fake they talk to; `start()` runs the sync loop, `stop()` ends it."""

    def __init__(self, fake: FakeHomeserver, database_url: str, config: Config | None = None):
        self.fake, self.clock = fake, FakeClock()
        self.config = config or matrix_team()
        self.bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(database_url)), config=self.config, clock=self.clock)
        self.client = make_client(fake.url, fake.user_id, sync_seconds=0.2)
        self.client.access_token, self.client.user_id = "token", fake.user_id
        self.rooms = Rooms(self.client, self.bot.engine, fake.user_id)
        self.adapter = MatrixAdapter(self.client, self.config, self.rooms)
        self.bot.attach(self.adapter)
        self.front = MatrixFront(self.bot, self.client, self.rooms)
        self.syncer = MatrixSyncer(self.client, self.front, self.bot.engine, timeout_ms=200)

    async def start(self) -> MatrixWorld:
        await self.rooms.load()
        await self.front.join_configured()
        await self.syncer.start()
        return self

    async def stop(self) -> None:
        await self.syncer.stop()
        await self.client.close()

    async def until(self, condition, timeout: float = 10, what: str = "") -> None:
        """Wait until condition() holds, delivering what the bot queued meanwhile (as its scheduler would)."""
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what or condition}"
            await self.bot.deliver()
            await asyncio.sleep(0.02)


@pytest.fixture
async def fake():
    """A fake homeserver on loopback (test modules take it as `fake = matrix_world.fake`)."""
    async with FakeHomeserver() as fake:
        yield fake


@pytest.fixture
async def world(fake, database):  # SQLite and PostgreSQL both (tests/bot/conftest.py)
    """The bot syncing against the fake, started; stopped and its engine disposed after the test."""
    world = await MatrixWorld(fake, database).start()
    yield world
    await world.stop()
    world.bot.engine.dispose()


def notices(fake: FakeHomeserver, room: str | None = None) -> list[str]:
    """The bot's notices, in one room or anywhere (a private answer goes to the person's direct room)."""
    return [c["body"] for c in fake.said(room) if c.get("msgtype") == "m.notice"]
