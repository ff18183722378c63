"""Where the CPU of a Slack command goes: OneVoice's `/crisis status` and `/crisis note …` against the floor of
bench/slack.py (a bare slack-bolt app that acks after one durable insert), in this process, CPU time per request.

Both apps are served in process through httpx's ASGI transport (the same client cost on both sides), on SQLite or the
test PostgreSQL, with the same signing secret and the fake Slack on loopback. OneVoice's decision (`bot.handle`, run in a
worker thread) is split by the thread's own CPU clock into: finding the incident of the room (with the session's first
statement and its BEGIN), the verb itself, and the commit with the answer rendered for the ack; what is left of a request
is the HTTP app around it (Starlette, our middleware, Bolt, httpx). CPU time, unlike wall time, is little moved by other
work on the machine, so this shows which part to cut while bench/slack.py says whether the target (median ≤ 1.5× the
floor's ack latency) is met.
Run: python bench/slack_cpu.py [--requests 300] [--database sqlite|postgres]
"""

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import httpx

sys.path[0] = str(Path(__file__).resolve().parent.parent)  # not bench/: its telegram.py would shadow the library

from bench.scratch import scratch_schema  # noqa: E402
from bench.slack import SECRET, floor_app  # noqa: E402
from bot.app import OneVoice  # noqa: E402
from bot.http import build_app  # noqa: E402
from bot.slack import delivery as slack_delivery  # noqa: E402
from bot.slack.delivery import SlackAdapter, web_client  # noqa: E402
from bot.slack.front import SlackFront  # noqa: E402
from config.load import STARTER, load_config  # noqa: E402
from config.settings import Settings  # noqa: E402
from handlers import router  # noqa: E402
from tests.fakes.slack_api import FakeSlack  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/test"
CASES = {"status": lambda i: "status", "note": lambda i: f"note Observation {i}: 12 complaints & rising <fast>"}
PARTS = ("incident", "verb", "commit and ack", "decision", "floor insert")


class Split:
    """Thread CPU spent in chosen functions, summed per part (each wrapped in place for the run)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)

    def timed(self, inner, part: str):
        """`inner`, its thread CPU added to `part` at each call."""

        def timed(*args, **kwargs):
            begun = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[part] += time.thread_time() - begun

        return timed


async def measure(requests: int, url: str) -> dict[str, dict[str, float]]:
    """Per case: CPU ms per request of OneVoice and of the floor, and OneVoice's parts."""
    slack_delivery.PACE = 0  # Slack's pace: a wait, not CPU; the one post (the card) goes at once
    fake = FakeSlack(signing_secret=SECRET)
    await fake.start()
    fake.add_channel("general", channel_id="C0GENERAL")
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=url, SLACK_SIGNING_SECRET=SECRET), config=load_config(str(STARTER)))
    client = web_client(fake.token, fake.api_url)
    bot.attach(SlackAdapter(client, False))
    ours = build_app(bot, slack_app=SlackFront(bot, client, SECRET).app)
    split = Split()
    apps = {"onevoice": ours, "floor": floor_app(bot.engine, fake.api_url, lambda insert: split.timed(insert, "floor insert"))}
    http = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") for name, app in apps.items()}

    async def post(target: str, text: str, channel: str) -> None:
        body, headers = fake.slash_command("U0ALICE", text, channel)
        answer = await http[target].post("/slack/events", content=body, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"{target} answered {answer.status_code} to {text!r}")

    try:
        await post("onevoice", "declare outage sev2 Checkout failing", "C0GENERAL")
        await bot.deliver()
        room = next(c["id"] for c in fake.channels.values() if c["name"].endswith("-checkout-failing"))
        # the router's steps and the two verbs, timed where the router finds them (for this run only)
        router.incident_reading = split.timed(router.incident_reading, "incident")
        router._remember = split.timed(router._remember, "commit and ack")
        verbs = router.registry().verbs
        for name in CASES:
            verbs[name] = replace(verbs[name], handler=split.timed(verbs[name].handler, "verb"))
        bot.handle = split.timed(bot.handle, "decision")  # type: ignore[method-assign]
        figures: dict[str, dict[str, float]] = {}
        for case, text in CASES.items():
            for i in range(30):  # warm-up: caches, prepared statements, the pools
                await post("onevoice", text(i), room)
                await post("floor", text(i), room)
            costs = {"onevoice": 0.0, "floor": 0.0}
            split.spent.clear()
            for i in range(requests):
                for target in ("onevoice", "floor") if i % 2 else ("floor", "onevoice"):
                    begun = time.process_time()
                    await post(target, text(i), room)
                    costs[target] += time.process_time() - begun
            figures[case] = {name: cost / requests * 1000 for name, cost in costs.items()}
            figures[case] |= {part: split.spent[part] / requests * 1000 for part in PARTS}
        return figures
    finally:
        for client_ in http.values():
            await client_.aclose()
        await fake.stop()
        bot.engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per case and app")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    if args.database == "postgres":
        with scratch_schema(PG) as url:
            figures = asyncio.run(measure(args.requests, url))
    else:
        figures = asyncio.run(measure(args.requests, f"sqlite:///{Path(tempfile.mkdtemp(prefix='onevoice-bench-')) / 'cpu.db'}"))
    print(f"{args.database}; CPU ms per request, {args.requests} requests per case and app (client and server in this process)")
    for case, shown in figures.items():
        around = shown["onevoice"] - shown["decision"]
        print(
            f"  {case:7} OneVoice {shown['onevoice']:.2f} · floor {shown['floor']:.2f} · ratio {shown['onevoice'] / shown['floor']:.2f}"
            f" | OneVoice's decision {shown['decision']:.2f}: incident {shown['incident']:.2f}, verb {shown['verb']:.2f},"
            f" commit and ack {shown['commit and ack']:.2f}; around it (HTTP app, Bolt, client) {around:.2f}"
            f" | the floor's insert {shown['floor insert']:.2f}, around it {shown['floor'] - shown['floor insert']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
