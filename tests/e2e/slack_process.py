"""The real `onevoice run` process against the fake Slack (tests/fakes/slack_api.py), driven over real HTTP.

Bring the fixtures into a test module by name: `slack_bot = slack_process.slack_bot` (an assignment, so linters
do not take the test argument for a redefined import).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from config.load import STARTER
from tests.e2e.run_process import RunningBot, fresh_start, serving
from tests.fakes.slack_api import FakeSlack, unescape

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-signing-secret"
CLOCK_START = "2026-03-02T01:00:00+00:00"
ALICE, BOB, CAROL, DAVE, ERIN = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE", "U0ERIN"
GENERAL = "C0GENERAL"
# ONEVOICE_SLACK_PACE_SECONDS for the modules that set it: a declare's posts to its room no longer wait a whole second
# each. The default (one message a second per channel) is proven by tests/bot/test_slack_pace.py.
PACE_SETTING, QUICK_PACE = "ONEVOICE_SLACK_PACE_SECONDS", "0.1"


def buttons(message: dict) -> list[dict]:
    """The buttons of a message's blocks, as the fake holds it."""
    return [e for block in message.get("blocks") or [] for e in block.get("elements") or [] if e.get("type") == "button"]


def button_labelled(messages: list[dict], label: str) -> tuple[dict, dict] | None:
    """The latest (message, button) whose button text starts with `label`."""
    for message in reversed(messages):
        for button in buttons(message):
            if button["text"]["text"].startswith(label):
                return message, button
    return None


class SlackBot(RunningBot):
    """One `onevoice run` process serving Slack over HTTP (or Socket Mode), with the fake Slack it talks to."""

    def __init__(self, folder: Path, config_extra: str = "", app_token: str | None = None):
        super().__init__()
        self.folder, self.app_token = folder, app_token
        self.fake = FakeSlack(signing_secret=SECRET)
        self.config = folder / "onevoice.yaml"
        self.config.write_text(STARTER.read_text(encoding="utf-8") + config_extra, encoding="utf-8")
        self.database = folder / "onevoice.db"
        self.log = folder / "onevoice.log"
        self.pick_ports()
        self.http: aiohttp.ClientSession | None = None

    async def start(self, timeout: float = 90) -> SlackBot:  # a guard: a loaded machine starts Python slowly
        await self.fake.start()
        self.fake.add_channel("newsroom", channel_id="C0NEWS", members=[self.fake.bot_user_id])
        self.http = aiohttp.ClientSession()
        await self.launch(self._environment, self.folder, timeout)
        return self

    def _environment(self) -> dict:
        env = {
            **os.environ,
            "ONEVOICE_CONFIG": str(self.config),
            "ONEVOICE_DATABASE_URL": f"sqlite:///{self.database}",
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "ONEVOICE_SLACK_API_URL": self.fake.api_url,
            "ONEVOICE_HTTP_PORT": str(self.port),
            "ONEVOICE_ADMIN_PORT": self.admin_url.rsplit(":", 1)[1],
            "ONEVOICE_HTTP_HOST": "127.0.0.1",
            "ONEVOICE_CLOCK_START": CLOCK_START,
            "PYTHONPATH": str(ROOT),
        }
        env.pop("SLACK_APP_TOKEN", None)
        if self.app_token:
            env["SLACK_APP_TOKEN"] = self.app_token
        return env

    async def stop(self) -> int | None:
        if self.http is not None:
            await self.http.close()
        return await super().stop()

    # ---- requests Slack sends to the bot

    async def post(self, body: bytes, headers: dict) -> tuple[int, str, float]:
        """POST a request to /slack/events as Slack does (an answer in the ack is shown); (status, text, seconds)."""
        started = time.monotonic()
        async with self.http.post(f"{self.url}/slack/events", data=body, headers=headers) as response:
            status, text = response.status, await response.text()
        self.fake.receive_ack(body, status, text)
        return status, text, time.monotonic() - started

    async def command(self, user: str, text: str, channel: str = GENERAL, **kwargs) -> tuple[int, str, float]:
        """A signed `/crisis …` slash command; Slack wants the ack within 3 s."""
        status, body, seconds = await self.post(*self.fake.slash_command(user, text, channel, **kwargs))
        assert status == 200, (status, body)
        assert seconds < 3, f"/crisis {text!r} answered in {seconds:.2f}s"
        return status, body, seconds

    async def click(self, user: str, channel: str, message: dict, button: dict) -> tuple[int, str, float]:
        """A signed block action: `user` clicks `button` of `message` in `channel`."""
        body, headers = self.fake.block_action(user, channel, button["action_id"], button["value"], message_ts=message["ts"])
        status, text, seconds = await self.post(body, headers)
        assert status == 200, (status, text)
        return status, text, seconds

    async def submit(self, user: str, callback_id: str, values: dict) -> tuple[int, str, float]:
        """A signed view submission of the last view opened with that callback_id."""
        view = next(v["view"] for v in reversed(self.fake.views) if v["view"].get("callback_id") == callback_id)
        status, text, seconds = await self.post(*self.fake.view_submission(user, callback_id, view.get("private_metadata", ""), values))
        assert status == 200, (status, text)
        return status, text, seconds

    # ---- waiting and looking

    def recent(self) -> str:
        return "\n".join(f"{m['channel']} {m['ts']} {(m['text'] or '')[:100]!r}" for m in self.fake.messages[-12:])

    def crisis_channels(self, prefix: str = "crisis-") -> list[dict]:
        return [c for c in self.fake.channels.values() if c["name"].startswith(prefix)]

    async def room(self, name_part: str = "", timeout: float = 10) -> dict:
        """The incident channel whose name contains name_part, once created."""
        found = lambda: next((c for c in self.crisis_channels() if name_part in c["name"]), None)  # noqa: E731
        return await self.wait_for(found, timeout, f"a crisis channel named like {name_part!r}")

    def texts(self, channel: str) -> list[str]:
        """The texts as they read now (after edits), unescaped, of the messages in a channel or a user's DM."""
        return [unescape(self.fake.current(m["channel"], m["ts"]).get("text") or "") for m in self.fake.messages_in(channel)]

    async def message(self, channel: str, contains: str, timeout: float = 10) -> dict:
        """The latest message in the channel (or DM with a user id) whose current text contains `contains`."""

        def found():
            for m in reversed(self.fake.messages_in(channel)):
                if contains in unescape(self.fake.current(m["channel"], m["ts"]).get("text") or ""):
                    shown = {k: m.get(k) for k in ("ephemeral", "mrkdwn", "user", "via")}  # via: "ack", "response_url", None (Web API)
                    return self.fake.current(m["channel"], m["ts"]) | shown
            return None

        return await self.wait_for(found, timeout, f"a message containing {contains!r} in {channel}")

    async def declare(self, title: str = "Battery overheating", head: str = "product-quality sev2", settled: bool = True) -> dict:
        """Alice declares from #general; the incident channel once its card is pinned (and every effect delivered, if settled)."""
        await self.command(ALICE, f"declare {head} {title}")
        room = await self.room(title.lower().replace(" ", "-"))
        # The card is pinned a moment before the bot records the channel as the incident's room: a command typed there
        # in between would not find its incident (a CI run drafted in between), so both are waited for.
        recorded = lambda: self.query("SELECT 1 FROM room WHERE external_id = ?", room["id"]) == [(1,)]  # noqa: E731
        done = lambda: room["pins"] and recorded() and (not settled or self.pending_effects() == 0)  # noqa: E731
        await self.wait_for(done, 15, "the card pinned" + (" and the outbox drained" if settled else ""))
        return room


@asynccontextmanager
async def quickly_paced(folder: Path) -> AsyncIterator[SlackBot]:
    """The starter team's bot on the fake Slack, served for the block at QUICK_PACE (the fake has no rate limit)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PACE_SETTING, QUICK_PACE)
        async with serving(SlackBot(folder)) as bot:
            yield bot


@pytest.fixture
async def start_slack_bot(request, tmp_path):
    """A factory: `await start_slack_bot(config_extra=..., app_token=...)`; every bot started is stopped and checked."""
    started: list[SlackBot] = []

    async def start(config_extra: str = "", app_token: str | None = None) -> SlackBot:
        folder = tmp_path / f"bot{len(started)}"
        folder.mkdir()
        started.append(SlackBot(folder, config_extra, app_token))
        started[-1].fresh = fresh_start(request)
        return await started[-1].start()

    yield start
    for bot in started:
        await bot.stop()


@pytest.fixture
async def slack_bot(request, tmp_path):
    """The starter team's bot on the fake Slack, over HTTP (a new interpreter if the test is marked `fresh_start`)."""
    bot = SlackBot(tmp_path)
    bot.fresh = fresh_start(request)
    async with serving(bot):
        yield bot
