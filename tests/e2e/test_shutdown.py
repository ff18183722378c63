"""SIGTERM while Slack is slow to answer a delivery: `onevoice run` exits 0 in time, holds no lease, and the next replica
delivers the rest exactly once."""

import asyncio
import signal
import time

import pytest
from aiohttp import web

from tests.e2e.slack_process import ALICE, SECRET, SlackBot
from tests.fakes.slack_api import FakeSlack, unescape

# Three: a queue behind the slow post, and little for the next replica to deliver, at the one post a second per channel
# the bot keeps to (five left about seven posts, seven seconds of that pace).
TASKS = [f"Call supplier {n}" for n in range(1, 4)]
BUDGET = 4.0  # ONEVOICE_SHUTDOWN_SECONDS (default 10): the test waits it out when a send is slower than it


class SlowSlack(FakeSlack):
    """chat.postMessage answers after `delay` seconds; a post the bot hung up on meanwhile never reaches the channel."""

    def __init__(self, **options):
        super().__init__(**options)
        self.delay = 0.0
        self.holding = asyncio.Event()
        self.started = False

    async def start(self) -> None:
        if not self.started:  # the second replica talks to the same workspace
            self.started = True
            await super().start()

    async def _api(self, request: web.Request) -> web.Response:
        if self.delay and request.match_info["method"] == "chat.postMessage":
            self.holding.set()
            deadline = time.monotonic() + self.delay
            while time.monotonic() < deadline:
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # the bot gave up waiting: Slack never took the message
                await asyncio.sleep(0.05)
        return await super()._api(request)


class Replica(SlackBot):
    """`onevoice run` on a folder's database, against a given fake (shared by the replicas of a test)."""

    def __init__(self, folder, fake: SlowSlack, name: str):
        super().__init__(folder)
        self.fake, self.log = fake, folder / f"{name}.log"

    def _environment(self) -> dict:
        return {**super()._environment(), "ONEVOICE_SHUTDOWN_SECONDS": str(BUDGET)}

    def rows(self) -> list[tuple]:
        return self.query("SELECT id, state, lease_until, lease_owner FROM outbox ORDER BY id")


@pytest.mark.parametrize("delay", [1.5, 60.0], ids=["finishes-the-send", "hands-the-send-back"])
async def test_sigterm_mid_delivery_exits_cleanly_and_the_next_replica_delivers_the_rest_once(tmp_path, delay):
    fake = SlowSlack(signing_secret=SECRET)
    first = await Replica(tmp_path, fake, "first").start()
    second = None
    try:
        room = await first.declare()
        fake.delay = delay
        for title in TASKS:  # each one is announced in the room: a queue of posts behind the slow one
            await first.command(ALICE, f"task add {title}", channel=room["id"])
        await asyncio.wait_for(fake.holding.wait(), 10)
        await first.wait_for(lambda: first.pending_effects() >= len(TASKS), 10, "the announcements queued")

        started = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(first.process.wait, 20)
        assert code == 0, first.output()[-3000:]
        assert time.monotonic() - started < BUDGET + 2  # the shutdown budget and a little for the interpreter
        cut_short = "delivery in progress cut short by shutdown" in first.output()
        assert cut_short == (delay > BUDGET), first.output()[-3000:]  # a send slower than the budget is abandoned, not awaited
        leftovers = [row for row in first.rows() if row[1] == "pending"]
        assert leftovers, "the slow platform should have left work for the next replica"
        assert all(lease is None and owner is None for _id, _state, lease, owner in leftovers), leftovers

        fake.delay = 0
        second = await Replica(tmp_path, fake, "second").start()
        await second.wait_for(lambda: second.pending_effects() == 0, 20, "the second replica delivering the rest")
        texts = [unescape(m.get("text") or "") for m in fake.messages_in(room["id"])]
        for title in TASKS:
            assert sum(title in text for text in texts) == 1, (title, texts)  # each announcement exactly once
    finally:
        for replica in (first, second):
            if replica is not None:
                await replica.stop()
