"""The real `onevoice run` process against the fake Telegram Bot API (tests/fakes/telegram_api.py), in both modes.

Polling: updates wait in the fake's `getUpdates` queue. Webhook: they are POSTed to `/telegram/webhook` with the secret
token, as Telegram does. Bind the fixtures in a test module: `telegram_bot = telegram_process.telegram_bot` (the bot,
once per mode) and `start_telegram_bot = telegram_process.start_telegram_bot` (a factory: mode, config, fake options).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from config.load import STARTER
from tests.e2e.run_process import RunningBot, fresh_start, serving
from tests.fakes.telegram_api import FakeTelegram, html_to_text

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-webhook-secret"
CLOCK_START = "2026-03-02T01:00:00+00:00"
GROUP = -1001234567890
BOT_NAME = "onevoice_bot"
ALICE, BOB, CAROL, DAVE, ERIN = 100001, 100002, 100003, 100004, 100005
TEAM = {
    ALICE: ("Alice", "alice_chen"),
    BOB: ("Bob", "bob_li_legal"),
    CAROL: ("Carol", "carol_w"),
    DAVE: ("Dave", None),
    ERIN: ("Erin", None),
}
MODES = ("polling", "webhook")
TEST_GROUP_PACE = 1200  # messages a minute into one group: 20 a second, never reached by a test


def buttons(message: dict) -> list[tuple[str, str]]:
    """(label, callback_data) of each inline button of a message (as the fake holds it now, or as it was sent)."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def data_of(message: dict, label: str) -> str:
    """The callback_data of the button whose label starts with `label`."""
    found = [data for text, data in buttons(message) if text.startswith(label)]
    assert found, f"no button {label!r} under {message.get('text', '')[:200]!r}: {buttons(message)}"
    return found[0]


class TelegramBot(RunningBot):
    """One `onevoice run` process on Telegram (long polling or webhook), with the fake Bot API it talks to."""

    def __init__(self, folder: Path, mode: str = "polling", config_extra: str = "", **fake_options):
        assert mode in MODES, mode
        super().__init__()
        self.folder, self.mode = folder, mode
        self.fake = FakeTelegram(crisis_group=GROUP, bot_username=BOT_NAME, **fake_options)
        for user_id, (name, username) in TEAM.items():
            self.fake.user(user_id, name, username)
        self.fake.started_bot |= set(TEAM)  # duty texts and approval requests by DM: little traffic in the group
        self.config = folder / "onevoice.yaml"
        self.config.write_text(STARTER.read_text(encoding="utf-8") + f"\ntelegram:\n  crisis_group: {GROUP}\n" + config_extra, "utf-8")
        self.database = folder / "onevoice.db"
        self.log = folder / "onevoice.log"
        self.pick_ports()

    # ---- lifecycle

    async def start(self, timeout: float = 90) -> TelegramBot:  # a guard: a loaded machine starts Python slowly
        await self.fake.start()
        await self.launch(self._environment, self.folder, timeout)
        assert f"Telegram ({self.mode})" in self.output(), self.output()
        return self

    def _environment(self) -> dict:
        env = {
            **os.environ,
            "ONEVOICE_CONFIG": str(self.config),
            "ONEVOICE_DATABASE_URL": f"sqlite:///{self.database}",
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "ONEVOICE_TELEGRAM_API_URL": self.fake.api_base,
            "ONEVOICE_HTTP_PORT": str(self.port),
            "ONEVOICE_ADMIN_PORT": self.admin_url.rsplit(":", 1)[1],
            "ONEVOICE_HTTP_HOST": "127.0.0.1",
            "ONEVOICE_CLOCK_START": CLOCK_START,
            "PTB_TIMEDELTA": "true",
            "PYTHONPATH": str(ROOT),
        }
        # At Telegram's 20 messages a minute per group, every group message past a test's 20th waits 3 s (a declaration
        # alone is 7): the process paces the group 60 times faster, a real setting (the default pace and the incident
        # traffic's reserve are proved in tests/bot/test_telegram_prompts.py and test_telegram_group_pace.py).
        env.setdefault("ONEVOICE_TELEGRAM_GROUP_PER_MINUTE", str(TEST_GROUP_PACE))
        for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "TELEGRAM_WEBHOOK_SECRET"):
            env.pop(name, None)
        if self.mode == "webhook":
            env["TELEGRAM_WEBHOOK_SECRET"] = SECRET
            # the bot does not call setWebhook (it is registered once, at deployment): register it as an operator would
            self.fake.webhook = {"url": f"{self.url}/telegram/webhook", "secret_token": SECRET, "allowed_updates": None}
        return env

    # ---- updates Telegram sends to the bot

    async def send(self, update: dict) -> int | None:
        """Hand an update to the bot: queued for getUpdates (polling), or POSTed with the secret (webhook, 200 expected)."""
        if self.mode == "polling":
            self.fake.queue_update(update)
            return None
        status = await self.fake.deliver_webhook(update)
        assert status == 200, f"webhook answered {status} to update {update['update_id']}"
        return status

    async def command(
        self, user: int, text: str, thread: int | None = None, chat: int | None = None, wait: float | None = 10, **update_options
    ) -> dict:
        """A user's command in the crisis group (in a topic), another chat, or private (chat = user); waits (`wait` seconds at
        most, None: not at all) until the bot has handled it."""
        update = self.fake.command_update(user, text, chat_id=chat, thread_id=thread, **update_options)
        await self.send(update)
        if wait:
            await self.handled(update, wait)
        return update

    async def press(self, user: int, message: dict, data: str, timeout: float = 10) -> dict:
        """`user` presses the inline button `data` under `message` (a record of fake.messages); the callback's answer."""
        update = self.fake.callback_update(user, data, chat_id=message["chat_id"], message_id=message["message_id"])
        query = update["callback_query"]["id"]
        await self.send(update)
        answered = lambda: next((a for a in self.fake.callback_answers if a["callback_query_id"] == query), None)  # noqa: E731
        return await self.wait_for(answered, timeout, f"the answer to the button {data!r}")

    async def reply(self, user: int, to: dict, text: str) -> dict:
        """`user` replies to the bot's message `to` (a record of fake.messages)."""
        update = self.fake.reply_update(user, text, to["message_id"], chat_id=to["chat_id"])
        await self.send(update)
        return update

    async def handled(self, update: dict, timeout: float = 10) -> None:
        """Wait until the bot has committed its handling of the update (its dedup key is stored)."""
        key = f"telegram:{update['update_id']}"
        seen = lambda: self.query("SELECT count(*) FROM processedevent WHERE key = ?", key) == [(1,)]  # noqa: E731
        await self.wait_for(seen, timeout, f"update {update['update_id']} handled")

    # ---- waiting and looking

    def current(self, message: dict) -> dict:
        """A message as Telegram holds it now (text as users read it, after edits; its inline keyboard)."""
        return self.fake.current_message(message["chat_id"], message["message_id"])

    def texts(self, chat: int | str, thread: int | None = None) -> list[str]:
        """What users read now of the bot's messages in a chat (or a topic of it), after edits."""
        return [self.current(m).get("text", "") for m in self.fake.messages_in(self.chat_id(chat), thread)]

    def chat_id(self, chat: int | str) -> int:
        if isinstance(chat, str):  # "@brand_news"
            return next(c["id"] for c in self.fake.chats.values() if c.get("username") and f"@{c['username']}" == chat)
        return chat

    async def message(self, chat: int | str, contains: str, thread: int | None = None, timeout: float = 10, after: int = 0) -> dict:
        """The latest bot message (a record of fake.messages) in the chat or topic whose text now contains `contains`."""

        def found():
            for m in reversed(self.fake.messages_in(self.chat_id(chat), thread)):
                if m["message_id"] > after and contains in self.current(m).get("text", ""):
                    return m
            return None

        return await self.wait_for(found, timeout, f"a message containing {contains!r} in {chat} (topic {thread})")

    def topics(self, prefix: str = "crisis-") -> dict[int, dict]:
        return {thread: t for thread, t in self.fake.topics.items() if t["name"].startswith(prefix)}

    async def declare(self, title: str = "Battery overheating", head: str = "product-quality sev2", settled: bool = True) -> int:
        """Alice declares in the crisis group; the topic's thread id once its card is pinned (and the outbox drained, if settled)."""
        await self.command(ALICE, f"/crisis declare {head} {title}")
        slug = title.lower().replace(" ", "-")
        thread = await self.wait_for(lambda: next((t for t, v in self.topics().items() if slug in v["name"]), None), 15, "the topic")
        recorded = lambda: self.query("SELECT 1 FROM room WHERE thread_id = ?", str(thread)) == [(1,)]  # noqa: E731  (as Slack's)
        pinned = lambda: self.card_id(thread) and recorded() and (not settled or self.pending_effects() == 0)  # noqa: E731
        await self.wait_for(pinned, 20, "the card pinned" + (" and the outbox drained" if settled else ""))
        return thread

    def card_id(self, thread: int) -> int | None:
        """The message id of the first message pinned in the topic (the card)."""
        in_topic = {m["message_id"] for m in self.fake.messages_in(GROUP, thread)}
        return next((message_id for chat, message_id in self.fake.pins if chat == GROUP and message_id in in_topic), None)

    def pins_in(self, thread: int) -> list[int]:
        in_topic = {m["message_id"] for m in self.fake.messages_in(GROUP, thread)}
        return [message_id for chat, message_id in self.fake.pins if chat == GROUP and message_id in in_topic]


def valid_html(text: str) -> bool:
    """Whether Telegram would accept the text with parse_mode HTML."""
    html_to_text(text)  # raises HtmlError when refused
    return True


@pytest.fixture
async def start_telegram_bot(request, tmp_path):
    """A factory: `await start_telegram_bot(mode, config_extra=..., **FakeTelegram options)`; each bot is stopped and checked."""
    started: list[TelegramBot] = []

    async def start(mode: str = "polling", config_extra: str = "", **fake_options) -> TelegramBot:
        folder = tmp_path / f"bot{len(started)}"
        folder.mkdir()
        started.append(TelegramBot(folder, mode, config_extra, **fake_options))
        started[-1].fresh = fresh_start(request)
        return await started[-1].start()

    yield start
    for bot in started:
        await bot.stop()


@pytest.fixture(params=MODES)
async def telegram_bot(request, tmp_path):
    """The starter team's bot on the fake Telegram, once by long polling and once by webhook (a new interpreter if the test
    is marked `fresh_start`)."""
    bot = TelegramBot(tmp_path, request.param)
    bot.fresh = fresh_start(request)
    async with serving(bot):
        yield bot
