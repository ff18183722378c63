"""OneVoice with Telegram attached by webhook, in this process, against the fake Bot API: updates go in through
`POST /telegram/webhook`, and what reaches Telegram is what the fake received."""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.app import OneVoice
from bot.http import build_app
from bot.telegram.delivery import TelegramAdapter
from bot.telegram.front import TelegramFront, build_application
from config.model import Config
from config.settings import Settings
from handlers.core.ports import FakeClock
from tests.conftest import reused_schema, seeded
from tests.fakes.telegram_api import FakeTelegram
from tests.templates import copy_of_starter

SECRET = "prompt-webhook-secret"
GROUP = -1001234567890
ALICE, BOB, CAROL, DAVE, ERIN = 100001, 100002, 100003, 100004, 100005  # commander, legal, spokesperson, monitor, exec
OUTSIDER = 666666


@contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database for a world: an SQLite file, or a private schema of the test PostgreSQL (dropped after)."""
    if kind == "sqlite":
        yield seeded(f"sqlite:///{folder / 'telegram.db'}")
        return
    with reused_schema() as (_engine, url):
        yield url


_TLS: list[ssl.SSLContext] = []


def _request(pool: int) -> HTTPXRequest:
    """The request PTB's builder makes by default, on one TLS context per process: building a new one reads the CA
    bundle (~0.1 s, twice a world), and the fake speaks plain HTTP anyway."""
    if not _TLS:
        _TLS.append(httpx.create_ssl_context())
    return HTTPXRequest(connection_pool_size=pool, httpx_kwargs={"verify": _TLS[0]})


def team() -> Config:
    """The starter team (parsed once), its crisis group the fake's."""
    config = copy_of_starter()
    return config.model_copy(update={"telegram": config.telegram.model_copy(update={"crisis_group": GROUP})})


class TelegramWorld:
    """The HTTP app with Telegram by webhook, a fake clock, and the fake Bot API; `limited`: PTB's rate limiter as
    `onevoice run` builds it (build_application), else none (fast)."""

    def __init__(self, database_url: str, limited: bool = False, config: Config | None = None, restart: int = 0):
        self.loop = asyncio.new_event_loop()
        self.fake = FakeTelegram(crisis_group=GROUP)
        self.fake._update_ids = itertools.count(100000001 + restart * 10_000_000)  # a restarted bot gets new updates, not old ones again
        self.fake.started_bot |= {ALICE, BOB, CAROL, DAVE, ERIN}
        self.run(self.fake.start())
        self.clock = FakeClock()
        self.config = config or team()
        self.bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=seeded(database_url)), config=self.config, clock=self.clock)
        if limited:
            self.application = build_application(self.fake.token, self.fake.api_base)
        else:
            builder = Application.builder().token(self.fake.token).base_url(self.fake.api_base).updater(None)
            self.application = builder.request(_request(256)).get_updates_request(_request(1)).build()
        self.front = TelegramFront(self.bot, self.application)
        self.run(self.application.initialize())
        self.bot.attach(TelegramAdapter(self.application.bot, self.config))
        self.run(self.application.start())
        app = build_app(self.bot, telegram=self.application, telegram_secret=SECRET)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://onevoice.test")

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def send(self, update: dict) -> dict:
        """POST one update to the webhook, wait until it is handled and what it decided is delivered; the update."""

        async def post():
            headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
            response = await self.http.post("/telegram/webhook", content=json.dumps(update).encode(), headers=headers)
            assert response.status_code == 200, response.text
            await asyncio.wait_for(self.application.update_queue.join(), 30)
            await self.bot.deliver()

        self.run(post())
        return update

    def command(self, user: int, text: str, thread: int | None = None, chat: int | None = None, username: str | None = None) -> dict:
        return self.send(self.fake.command_update(user, text, chat_id=chat, thread_id=thread, username=username))

    def press(self, user: int, data: str, message: dict | None = None, chat: int | None = None) -> dict | None:
        """`user` presses a button with `data` under `message` (a record of fake.messages; default: the bot's last in
        the chat); the private answer the presser saw (None if none)."""
        chat = message["chat_id"] if message else (GROUP if chat is None else chat)
        update = self.fake.callback_update(user, data, chat_id=chat, message_id=message["message_id"] if message else None)
        query = update["callback_query"]["id"]
        self.send(update)
        return next((a for a in self.fake.callback_answers if a["callback_query_id"] == query), None)

    def reply(self, user: int, to: dict, text: str) -> dict:
        return self.send(self.fake.reply_update(user, text, to["message_id"], chat_id=to["chat_id"]))

    def in_group(self) -> list[dict]:
        """Every message the bot sent to the crisis group (main chat and topics)."""
        return self.fake.messages_in(GROUP)

    def group_calls(self) -> list[str]:
        """Every Bot API call that spent the group's budget (anything naming the group's chat), in order."""
        return [method for method, params in self.fake.calls if str(params.get("chat_id")) == str(GROUP)]

    def said_to(self, chat: int) -> list[str]:
        """What a user reads of the bot's messages in a chat (a DM: the user's id)."""
        return [m["plain"] for m in self.fake.messages_in(chat)]

    def status(self, incident: int = 1, user: int = ALICE) -> str:
        """What `/crisis #N status` shows Alice (by DM: it is her private chat)."""
        self.command(user, f"/crisis #{incident} status", chat=user)
        return self.said_to(user)[-1]

    def close(self) -> None:
        self.run(self.http.aclose())
        self.run(self.application.stop())
        self.run(self.application.shutdown())
        self.run(self.fake.stop())
        self.bot.engine.dispose()
        self.loop.close()
