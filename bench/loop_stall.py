"""The event loop's longest stall while delivery runs, without and with another thread holding SQLite's write lock for 2 s.

A ticker task wakes every 5 ms and notes how late it woke; meanwhile the outbox of a few incidents is delivered to a
fake Slack on loopback and a signed slash command is sent to the app in this process. Prints the longest stall, the
slash command's answer time and whether it was answered, for each run (target: longest stall under 100 ms with the
lock held).
Run: python bench/loop_stall.py [--incidents 5] [--hold 2]
"""

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: its telegram.py would shadow the library

from bot.app import OneVoice  # noqa: E402
from bot.http import build_app  # noqa: E402
from bot.slack import delivery as slack_delivery  # noqa: E402
from bot.slack.delivery import SlackAdapter, web_client  # noqa: E402
from bot.slack.front import SlackFront  # noqa: E402
from config.load import load_config  # noqa: E402
from config.settings import Settings  # noqa: E402
from handlers.core.ports import Command, RoomRef, UserRef  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
TICK = 0.005


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """Sleep TICK again and again; note how much later than asked each wake-up came."""
    while not stop.is_set():
        asked = time.perf_counter()
        await asyncio.sleep(TICK)
        stalls.append(time.perf_counter() - asked - TICK)


def hold_write_lock(path: str, seconds: float, locked: threading.Event) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    locked.set()
    time.sleep(seconds)
    connection.execute("COMMIT")
    connection.close()


async def run(incidents: int, hold: float | None) -> dict:
    """One run on a fresh database: queue the incidents' effects, then deliver them and send a command, ticking."""
    fake = FakeSlack(signing_secret=SECRET)
    await fake.start()
    fake.add_channel("general", channel_id="C0GENERAL")
    path = f"{tempfile.mkdtemp(prefix='onevoice-stall-')}/stall.db"
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{path}", SLACK_SIGNING_SECRET=SECRET), config=load_config(None))
    client = web_client(fake.token, fake.api_url)
    bot.attach(SlackAdapter(client))
    front = SlackFront(bot, client, SECRET)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(bot, slack_app=front.app)), base_url="http://bench.test")
    for n in range(incidents):
        bot.handle(Command(UserRef("slack", "U0ALICE"), f"declare outage sev2 Checkout down {n}", RoomRef("slack", "C0GENERAL")))
    stalls, stop = [], asyncio.Event()
    ticking = asyncio.create_task(ticker(stalls, stop))
    await asyncio.sleep(0.1)
    holder = None
    if hold:
        locked = threading.Event()
        holder = threading.Thread(target=hold_write_lock, args=(path, hold, locked), daemon=True)
        holder.start()
        await asyncio.to_thread(locked.wait)
    started = time.perf_counter()
    delivering = asyncio.create_task(bot.deliver())
    body, headers = fake.slash_command("U0ALICE", "declare product-quality sev2 Battery overheating", "C0GENERAL")
    answer = await http.post("/slack/events", content=body, headers=headers)
    answered = time.perf_counter() - started
    await delivering
    if holder is not None:
        await asyncio.to_thread(holder.join)
    sent = await bot.deliver()  # what the command decided meanwhile
    stop.set()
    await ticking
    await http.aclose()
    await fake.stop()
    bot.engine.dispose()
    return {"stall": max(stalls), "answer": answered, "status": answer.status_code, "ticks": len(stalls), "after": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=5)
    parser.add_argument("--hold", type=float, default=2.0)
    args = parser.parse_args()
    slack_delivery.PACE = 0  # Slack's one message a second per channel would only lengthen the run
    results = {}
    for label, hold in (("no lock held", None), (f"write lock held {args.hold:g} s by another thread", args.hold)):
        results[label] = figures = asyncio.run(run(args.incidents, hold))
        print(
            f"{label:<42} longest loop stall {figures['stall'] * 1000:7.1f} ms   slash command answered "
            f"HTTP {figures['status']} in {figures['answer'] * 1000:7.1f} ms   ({figures['ticks']} ticks)"
        )
    locked = list(results.values())[1]
    print(f"target: longest stall under 100 ms with the lock held: {'met' if locked['stall'] < 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
