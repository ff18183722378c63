"""Crash at intake on Telegram: `onevoice run` on PostgreSQL behind the fake Telegram, SIGKILLed around an update's
acknowledgement. Used by tests/e2e/test_telegram_intake.py (10 rounds per path) and bench/intake_telegram.py (200).

Webhook: two replicas; an update is POSTed to one of them, which is killed at a random moment between receipt and a few
milliseconds after its 200; an update without a 200 is delivered again to the other one, as Telegram does; the killed
one is restarted. Polling: one poller (one per database); an update is made available by getUpdates and the poller is
killed at a random moment between then and a few milliseconds after the offset confirmed it; the restarted poller gets
every unconfirmed update again. Each update is `/task intake r<n>` in one incident's topic; in the end `/tasks all`
shows, as a user sees it, how many times each task exists.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from config.load import STARTER
from tests.e2e.forked_run import Forked, replica_seed, spawn
from tests.e2e.run_process import free_port, unexpected_tracebacks
from tests.e2e.telegram_process import ALICE, BOT_NAME, GROUP, ROOT, SECRET, TEAM
from tests.fakes.telegram_api import FakeTelegram

TASK = re.compile(r"intake (r\d+) ·")
SLACK = 0.005  # seconds past the acknowledgement a kill may still land


@dataclass
class Tally:
    """What the rounds did: updates sent, acknowledged, and those acknowledged but absent (lost) or present twice."""

    sent: int = 0
    acknowledged: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def line(self, path: str) -> str:
        return (
            f"{path}: {self.sent} rounds, {self.acknowledged} acknowledged, {len(self.lost)} lost {self.lost}, "
            f"{len(self.doubled)} doubled {self.doubled} ({self.seconds:.0f} s)"
        )


class TelegramReplicas:
    """`onevoice run` processes (webhook or polling) on one database, sharing one fake Telegram."""

    def __init__(self, folder: Path, database_url: str, mode: str):
        self.folder, self.database_url, self.mode = folder, database_url, mode
        self.fake = FakeTelegram(crisis_group=GROUP, bot_username=BOT_NAME)
        for user_id, (name, username) in TEAM.items():
            self.fake.user(user_id, name, username)
        self.fake.started_bot |= set(TEAM)
        self.config = folder / "onevoice.yaml"
        self.config.write_text(STARTER.read_text(encoding="utf-8") + f"\ntelegram:\n  crisis_group: {GROUP}\n", "utf-8")
        self.processes: dict[int, Forked] = {}
        self.ports: dict[int, int] = {}
        self.logs: list[Path] = []
        self.http: aiohttp.ClientSession | None = None
        self.restarting: dict[int, asyncio.Task] = {}  # webhook replicas restarting while the next round goes to the other

    async def __aenter__(self) -> TelegramReplicas:
        await self.fake.start()
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc) -> None:
        await asyncio.gather(*self.restarting.values(), return_exceptions=exc[0] is not None)
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                await asyncio.to_thread(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await self.http.close()
        await self.fake.stop()
        if exc[0] is None:
            for log in self.logs:
                assert not unexpected_tracebacks(log.read_text(errors="replace"), []), log.read_text(errors="replace")[-5000:]
            assert not self.fake.internal_errors, self.fake.internal_errors

    async def start_one(self, index: int, timeout: float = 60) -> None:
        """Start (or restart) process `index`; a poller refused because its killed predecessor's lock lingers tries again."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.folder / f"{self.mode}{index}-{len(self.logs)}.log"
            self.logs.append(log)
            self.ports[index] = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
            env |= {
                "ONEVOICE_CONFIG": str(self.config),
                "ONEVOICE_DATABASE_URL": self.database_url,
                "TELEGRAM_BOT_TOKEN": self.fake.token,
                "ONEVOICE_TELEGRAM_API_URL": self.fake.api_base,
                "ONEVOICE_HTTP_HOST": "127.0.0.1",
                "ONEVOICE_HTTP_PORT": str(self.ports[index]),
                "ONEVOICE_ADMIN_PORT": "0",  # several replicas on one machine: no internal listener to share
                "PTB_TIMEDELTA": "true",
                "PYTHONPATH": str(ROOT),
                **replica_seed(index),  # neighbours order sets differently, as separately started replicas would
            }
            if self.mode == "webhook":
                env["TELEGRAM_WEBHOOK_SECRET"] = SECRET
            log.write_text("")  # a file, not a pipe: an unread pipe would stall the process
            process = await asyncio.to_thread(spawn, ["run"], env, self.folder, log)  # forked, off the loop (see run_process)
            self.processes[index] = process
            while "OneVoice running" not in log.read_text(errors="replace") and process.poll() is None:
                assert time.monotonic() < deadline, f"{self.mode} {index} did not start:\n{log.read_text(errors='replace')[-3000:]}"
                await asyncio.sleep(0.05)
            if process.poll() is None:
                return
            said = log.read_text(errors="replace")
            assert "already polling" in said and time.monotonic() < deadline, f"{self.mode} {index} exited:\n{said[-3000:]}"
            await asyncio.sleep(0.2)

    async def ready(self, index: int) -> None:
        """Wait for process `index` to be back, if it is restarting."""
        if index in self.restarting:
            await self.restarting.pop(index)

    def kill(self, index: int) -> None:
        """SIGKILL: no goodbye."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(10)

    async def post(self, index: int, update: dict) -> int | None:
        """POST an update to process `index`'s webhook; its status, None when the connection died first."""
        url = f"http://127.0.0.1:{self.ports[index]}/telegram/webhook"
        try:
            async with self.http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, ConnectionError):
            return None

    async def send(self, update: dict, index: int = 0) -> None:
        """Hand an update over and wait until it is acknowledged (webhook: its 200; polling: the offset past it)."""
        if self.mode == "webhook":
            assert await self.post(index, update) == 200
        else:
            self.fake.queue_update(update)
            await self.wait_for(lambda: self.fake.confirmed > update["update_id"], 30, f"update {update['update_id']} confirmed")

    async def wait_for(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}; last log:\n{self.logs[-1].read_text()[-3000:]}"
            await asyncio.sleep(0.02)
        return value


async def declare(replicas: TelegramReplicas) -> int:
    """One incident: its topic's thread id, once the topic is open and its card pinned."""
    await replicas.send(replicas.fake.command_update(ALICE, "/crisis declare product-quality sev3 Intake crash"))
    thread = await replicas.wait_for(lambda: next(iter(replicas.fake.topics), None), 30, "the topic")
    # the responders mentioned in the topic: an effect delivered after the topic's opening was recorded, so commands typed
    # in the topic now find their incident
    invited = lambda: any("👋" in m["plain"] for m in replicas.fake.messages_in(GROUP, thread))  # noqa: E731
    await replicas.wait_for(invited, 30, "the responders invited in the topic")
    return thread


async def acknowledgement_time(replicas: TelegramReplicas, thread: int, count: int = 3) -> float:
    """The median seconds from handing a `/task` over to its acknowledgement, without crashes."""
    times = []
    for n in range(count):
        started = time.monotonic()
        await replicas.send(replicas.fake.command_update(ALICE, f"/task warm-up {n}", thread_id=thread))
        times.append(time.monotonic() - started)
    return statistics.median(times)


async def webhook_round(replicas: TelegramReplicas, number: int, thread: int, window: float) -> tuple[str, bool]:
    """POST `/task intake r<n>` to one replica, SIGKILL it `window` seconds later (0: just after its 200), deliver again
    if no 200 came, restart it (while the next round goes to the other replica)."""
    victim, other = number % 2, 1 - number % 2
    await replicas.ready(victim)
    update = replicas.fake.command_update(ALICE, f"/task intake r{number}", thread_id=thread)
    posting = asyncio.create_task(replicas.post(victim, update))
    if window > 0:
        await asyncio.sleep(window)
    else:  # a few milliseconds after the 200
        await asyncio.shield(posting)
        await asyncio.sleep(random.uniform(0, SLACK))
    replicas.kill(victim)
    acknowledged = await posting == 200
    if not acknowledged:  # Telegram delivers it again until some replica answers 200
        await replicas.ready(other)
        assert await replicas.post(other, update) == 200
    replicas.restarting[victim] = asyncio.create_task(replicas.start_one(victim))
    return f"r{number}", acknowledged


async def polling_round(replicas: TelegramReplicas, number: int, thread: int, window: float) -> tuple[str, bool]:
    """Make `/task intake r<n>` available to getUpdates, SIGKILL the poller `window` seconds later (0: just after the
    offset confirmed it), restart it."""
    update = replicas.fake.command_update(ALICE, f"/task intake r{number}", thread_id=thread)
    replicas.fake.queue_update(update)
    if window > 0:
        await asyncio.sleep(window)
    else:  # a few milliseconds after the offset confirmed it
        await replicas.wait_for(lambda: replicas.fake.confirmed > update["update_id"], 30, f"round {number} confirmed")
        await asyncio.sleep(random.uniform(0, SLACK))
    replicas.kill(0)
    await asyncio.sleep(0.2)  # a getUpdates the poller sent just before dying still reaches the fake: it confirms all the same
    acknowledged = replicas.fake.confirmed > update["update_id"]
    await replicas.start_one(0)
    await replicas.wait_for(lambda: replicas.fake.confirmed > update["update_id"], 30, f"round {number} confirmed after the restart")
    return f"r{number}", acknowledged


async def tasks_shown(replicas: TelegramReplicas, thread: int) -> Counter:
    """`/tasks all` as Alice: how many times each `intake r<n>` task is listed in the answer she gets by DM."""
    before = max((m["message_id"] for m in replicas.fake.messages), default=0)
    await replicas.send(replicas.fake.command_update(ALICE, "/tasks all", thread_id=thread))
    answer = "\n".join(m["plain"] for m in replicas.fake.messages_in(ALICE) if m["message_id"] > before)
    assert all(f"warm-up {n}" in answer for n in range(3)), answer[:2000]  # the whole list, from its first piece
    return Counter(TASK.findall(answer))


async def crash_rounds(folder: Path, database_url: str, mode: str, rounds: int) -> Tally:
    """`rounds` kills around an update's acknowledgement on one path; what a user finds afterwards."""
    started = time.monotonic()
    tally = Tally()
    async with TelegramReplicas(folder, database_url, mode) as replicas:
        await asyncio.gather(*(replicas.start_one(i) for i in range(2 if mode == "webhook" else 1)))
        thread = await declare(replicas)
        window = await acknowledgement_time(replicas, thread) + SLACK
        play = webhook_round if mode == "webhook" else polling_round
        acknowledged, played = [], 0
        for number in range(rounds):
            # moments spread evenly over receipt → acknowledgement + a few ms; every fifth round just after the acknowledgement
            moment = 0 if number % 5 == 4 else window * (number % 5 + random.random()) / 4
            label, acked = await play(replicas, number, thread, moment)
            played += 1
            if acked:
                acknowledged.append(label)
        for index in list(replicas.restarting):
            await replicas.ready(index)
        shown = await tasks_shown(replicas, thread)
    tally.sent, tally.acknowledged = played, len(acknowledged)
    tally.lost = [label for label in acknowledged if shown[label] == 0]
    tally.doubled = sorted(label for label, times in shown.items() if times > 1)
    tally.seconds = time.monotonic() - started
    return tally
