"""Early warning over real HTTP: signed alerts become one triage message each, with a Declare button that works."""

import asyncio
import io
import json
import os
import socket
import subprocess
import sys

import aiohttp
import pytest
import uvicorn
from sqlmodel import func, select

from bot.app import OneVoice
from bot.console.front import ConsoleAdapter
from bot.http import build_app
from bot.web.signals import HEADER, MAX_BODY, signature
from config.load import load_config
from config.model import RoomHandles
from config.settings import Settings
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef
from storage.db import session
from storage.models import Outbox, Signal, TimelineEvent

SECRET = "signals-secret"
LOUD = {
    "source": "brandwatch",
    "title": "PowerMax 20 overheating videos spreading",
    "url": "https://example.com/mentions/1",
    "summary": "Three videos show units smoking while charging.",
    "volume": 1800,
    "baseline": 300,
    "sentiment": -0.6,
    "keywords": ["overheat", "PowerMax"],
    "dedup_key": "pm20-overheat",
}


class Instance:
    """OneVoice's HTTP app in this process, on a free loopback port, speaking on the console."""

    def __init__(self, tmp_path, per_minute: int = 30):
        config = load_config(None)
        signals = config.signals.model_copy(update={"per_source_per_minute": per_minute})
        config = config.model_copy(update={"triage_room": RoomHandles(console="triage"), "signals": signals})
        self.bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{tmp_path / 'ov.db'}"), config=config, clock=FakeClock())
        self.out = io.StringIO()
        self.bot.attach(ConsoleAdapter(self.out))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/signals"
        app = build_app(self.bot, signals_secret=SECRET)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))

    async def __aenter__(self):
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.02)
        return self

    async def __aexit__(self, *exc):
        self.server.should_exit = True
        await self.task

    async def send(self, body: bytes, headers: dict | None = None) -> tuple[int, dict]:
        headers = {HEADER: signature(SECRET, body)} if headers is None else headers
        async with aiohttp.ClientSession() as http, http.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.json()

    def rows(self, model) -> int:
        with session(self.bot.engine) as db:
            return db.exec(select(func.count()).select_from(model)).one()


def encoded(fields: dict) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


async def test_a_signed_signal_becomes_a_triage_message_with_a_declare_button(tmp_path):
    async with Instance(tmp_path) as instance:
        status, answer = await instance.send(encoded(LOUD))
        await instance.bot.deliver()
    assert status == 202 and answer == {"signal": 1, "status": "new", "count": 1, "playbook": "product-quality", "severity": "sev2"}
    printed = instance.out.getvalue()
    assert "[#triage] 📡 Signal 1 from brandwatch: PowerMax 20 overheating videos spreading" in printed
    assert "volume 1800 (6.0×) · sentiment -0.60" in printed
    assert "[Declare] → /crisis declare --signal 1" in printed


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (encoded(LOUD), {}, 401),
        (encoded(LOUD), {HEADER: "sha256=" + "0" * 64}, 401),
        (encoded(LOUD), {HEADER: signature("another-secret", encoded(LOUD))}, 401),
        (b"x" * (MAX_BODY + 1), None, 413),
        (b"{not json", None, 422),
        (encoded({**LOUD, "sentiment": 4}), None, 422),
        (encoded({"title": "no source"}), None, 422),
    ],
    ids=["unsigned", "bad-signature", "other-secret", "oversized", "malformed", "sentiment-out-of-range", "missing-source"],
)
async def test_bad_requests_are_refused_and_nothing_is_posted(tmp_path, body, headers, status):
    async with Instance(tmp_path) as instance:
        got, answer = await instance.send(body, headers)
    assert got == status and answer["error"]
    assert instance.rows(Signal) == 0 and instance.rows(Outbox) == 0


async def test_the_same_dedup_key_updates_one_triage_message(tmp_path):
    async with Instance(tmp_path) as instance:
        await instance.send(encoded(LOUD))
        await instance.bot.deliver()
        status, answer = await instance.send(encoded({**LOUD, "volume": 4200}))
        await instance.bot.deliver()
    assert status == 202 and answer["status"] == "updated" and answer["count"] == 2
    printed = instance.out.getvalue()
    assert printed.count("📡 Signal") == 2 and printed.count("[#triage] 📡 Signal 1") == 1  # posted once…
    assert "[#triage] (message updated) 📡 Signal 1" in printed and "volume 4200 (14.0×)" in printed  # …then edited in place
    assert "seen 2 times" in printed


async def test_declaring_from_the_button_opens_an_incident_carrying_the_signal(tmp_path):
    async with Instance(tmp_path) as instance:
        await instance.send(encoded(LOUD))
        await instance.bot.deliver()
        press = Command(UserRef("console", "dave"), "declare --signal 1", RoomRef("console", "triage"), "press-1")
        reply = await asyncio.to_thread(instance.bot.handle, press)
        again = await asyncio.to_thread(
            instance.bot.handle, Command(UserRef("console", "erin"), "declare --signal 1", RoomRef("console", "triage"))
        )
        await instance.bot.deliver()
    assert reply.ok and "Declared #1 “PowerMax 20 overheating videos spreading” (product-quality, sev2)" in reply.message.plain()
    assert not again.ok and "Signal 1 was already declared as #1." in again.message.plain()
    with session(instance.bot.engine) as db:
        carried = db.exec(select(TimelineEvent).where(TimelineEvent.kind == "signal")).one()
    assert carried.incident_id == 1 and carried.data["source"] == "brandwatch" and carried.data["url"] == LOUD["url"]
    assert "Declared as #1." in instance.out.getvalue().rsplit("(message updated)", 1)[1]


async def test_a_source_sending_too_many_signals_is_told_to_wait(tmp_path):
    async with Instance(tmp_path, per_minute=2) as instance:
        statuses = [(await instance.send(encoded({**LOUD, "dedup_key": f"k{n}"})))[0] for n in range(3)]
    assert statuses == [202, 202, 429] and instance.rows(Signal) == 2


async def test_onevoice_signal_sends_a_correctly_signed_test_signal(tmp_path):
    async with Instance(tmp_path) as instance:
        env = {**os.environ, "ONEVOICE_SIGNALS_SECRET": SECRET}
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "signal",
            "--title",
            "谣言：产品含有害物质",
            "--volume",
            "900",
            "--baseline",
            "100",
            "--sentiment",
            "-0.7",
            "--keyword",
            "谣言",
            "--to",
            instance.url,
        ]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("202 ") and json.loads(done.stdout[4:])["playbook"] == "attack"
