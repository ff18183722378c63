"""Delivery never blocks the event loop: while another thread holds SQLite's write lock, requests are still served and a
Slack command is answered and carried out once the lock is free."""

import asyncio
import sqlite3
import threading

import httpx
import pytest

from bot.app import OneVoice
from bot.http import build_app
from bot.slack import delivery as slack_delivery
from bot.slack.delivery import SlackAdapter, web_client
from bot.slack.front import SlackFront
from config.settings import Settings
from handlers.core.ports import Command, RoomRef, UserRef
from tests.conftest import seeded
from tests.fakes.slack_api import FakeSlack
from tests.templates import copy_of_starter

SECRET = "loop-signing-secret"
HOLD = 2.0  # seconds the other thread keeps the write lock


class LockHolder(threading.Thread):
    """Another writer: takes SQLite's write lock and keeps it for HOLD seconds, noting whether the loop answered meanwhile."""

    def __init__(self, path: str):
        super().__init__(daemon=True)
        self.path, self.locked, self.answered = path, threading.Event(), threading.Event()
        self.answered_while_locked = False

    def run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        self.locked.set()
        self.answered_while_locked = self.answered.wait(HOLD)
        self.answered.wait(HOLD)  # hold the lock the whole time either way
        connection.execute("COMMIT")
        connection.close()


@pytest.fixture
async def slack(tmp_path, monkeypatch):
    monkeypatch.setattr(slack_delivery, "PACE", 0)
    fake = FakeSlack(signing_secret=SECRET)
    await fake.start()
    fake.add_channel("general", channel_id="C0GENERAL")
    path = tmp_path / "loop.db"
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{path}"), SLACK_SIGNING_SECRET=SECRET), config=copy_of_starter())
    client = web_client(fake.token, fake.api_url)
    bot.attach(SlackAdapter(client))
    decided = asyncio.Event()
    front = SlackFront(bot, client, SECRET, on_work=decided.set)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(bot, slack_app=front.app)), base_url="http://onevoice.test")
    yield bot, fake, http, decided, str(path)
    await http.aclose()
    await fake.stop()
    bot.engine.dispose()


async def test_a_slack_command_is_answered_while_another_thread_holds_the_write_lock(slack):
    bot, fake, http, decided, path = slack
    for n in range(3):  # work for the delivery loop
        bot.handle(Command(UserRef("slack", "U0ALICE"), f"declare outage sev2 Checkout down {n}", RoomRef("slack", "C0GENERAL")))
    holder = LockHolder(path)
    holder.start()
    await asyncio.to_thread(holder.locked.wait)
    delivering = asyncio.create_task(bot.deliver())  # its database work waits for the lock in a worker thread
    await asyncio.sleep(0)
    probe = await http.get("/healthz")  # the loop still serves requests
    holder.answered.set()
    command = asyncio.create_task(http.post("/slack/events", **_signed(fake, "declare product-quality sev2 Battery overheating")))
    answer = await command
    await asyncio.wait_for(decided.wait(), 30)
    await delivering
    await bot.deliver()
    await asyncio.to_thread(holder.join)

    assert probe.status_code == 200 and holder.answered_while_locked  # answered before the other thread let go
    assert answer.status_code == 200
    assert any(c["name"].endswith("battery-overheating") for c in fake.channels.values())  # the command was carried out
    assert sum(c["name"].startswith("crisis-") for c in fake.channels.values()) == 4  # and the delivery waiting meanwhile too


def _signed(fake: FakeSlack, text: str) -> dict:
    body, headers = fake.slash_command("U0ALICE", text, "C0GENERAL")
    return {"content": body, "headers": headers}
