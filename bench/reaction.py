"""Reaction (issue 19): `reaction` and the review report stay flat as attached signals grow; accepting a signal stays cheap.

One SQLite database holds two real incidents a day old, one with 100 attached signals and one with 100,000, both spread
over their first 100 ten-minute slots (their links and buckets written as intake writes them): the charts differ only in
how many signals they sum. Measured in the same run, alternated: `reaction` and writing the review report on each
(median of --runs), and accepting a new signal that attaches to the big incident by its keywords against accepting the
same signal with the intake code of --base (before attachment existed), both in receive() and as a signed POST /signals.
Targets: big / small ≤ 1.3 for `reaction` and the report; new intake / base intake ≤ 1.2.
Run: python bench/reaction.py [--runs 15] [--signals 100000] [--base ac9f3ee]
"""

import argparse
import asyncio
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project first, and not this folder: bench/telegram.py would stand in for the telegram package.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent)]

import httpx  # noqa: E402
from sqlalchemy import text  # noqa: E402

import bot.web.signals as web_signals  # noqa: E402
from bot.app import OneVoice  # noqa: E402
from bot.console.front import ConsoleAdapter  # noqa: E402
from bot.http import build_app  # noqa: E402
from bot.web.report_files import write_report  # noqa: E402
from bot.web.signals import HEADER, signature  # noqa: E402
from config.load import load_config  # noqa: E402
from config.model import RoomHandles  # noqa: E402
from config.settings import Settings  # noqa: E402
from handlers.core.ports import Command, FakeClock, RoomRef, UserRef  # noqa: E402
from handlers.router import dispatch  # noqa: E402
from handlers.signals import intake  # noqa: E402
from storage.db import session  # noqa: E402

TARGETS = {"reaction": 1.3, "report": 1.3, "intake": 1.2, "intake_http": 1.2}
SECRET = "bench-signals-secret"


def old_intake(base: str):
    """The intake module as it was at `base`, loaded beside today's (same tables, no attachment)."""
    source = subprocess.run(["git", "show", f"{base}:handlers/signals/intake.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    path = Path(tempfile.mkdtemp(prefix="onevoice-bench-")) / "intake_base.py"
    path.write_text(source.stdout, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("intake_base", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(engine, incident_id: int, count: int, declared, first_signal: int) -> None:
    """`count` attached signals over the first 100 slots, their links, and the buckets intake would have summed."""
    rows = [
        {
            "id": first_signal + n,
            "source": "bench",
            "key": f"bench-{incident_id}-{n}",
            "title": f"Mention {n}",
            "volume": float(n % 50 + 1),
            "sentiment": round((n % 21 - 10) / 10, 1),
            "at": (declared + timedelta(seconds=60_000 * n / count)).isoformat(),
            "slot": int(100 * n / count),  # the same 100 ten-minute slots for both: only the number of signals differs
        }
        for n in range(count)
    ]
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO signal (id, source, dedup_key, title, summary, volume, sentiment, keywords, playbook, severity, count,"
                " first_at, last_at, posts) VALUES (:id, :source, :key, :title, '', :volume, :sentiment, '[]', 'product-quality',"
                " 'sev2', 1, :at, :at, '[]')"
            ),
            rows,
        )
        for row in rows:
            negative = row["volume"] if row["sentiment"] < 0 else 0.0
            row["figures"] = [1, row["volume"], negative, row["sentiment"], 1]
            row["readings"] = json.dumps({str(row["slot"]): row["figures"]})
        db.execute(
            text(
                "INSERT INTO signallink (signal_id, incident_id, how, also, readings, at)"
                f" VALUES (:id, {incident_id}, 'incident', '[]', :readings, :at)"
            ),
            rows,
        )
        sums: dict[int, list[float]] = {}
        for row in rows:
            sums[row["slot"]] = [a + b for a, b in zip(sums.get(row["slot"], [0] * 5), row["figures"], strict=True)]
        db.execute(
            text(
                "INSERT INTO reactionbucket (incident_id, slot, readings, volume, negative, sentiment_sum, sentiment_n)"
                f" VALUES ({incident_id}, :slot, :readings, :volume, :negative, :sentiment_sum, :sentiment_n)"
            ),
            [
                dict(zip(("slot", "readings", "volume", "negative", "sentiment_sum", "sentiment_n"), (slot, *f), strict=True))
                for slot, f in sums.items()
            ],
        )
        db.execute(text(f"INSERT INTO incidentkeyword (incident_id, word, signals) VALUES ({incident_id}, 'pb-20', {count})"))


def alternated(actions: dict, runs: int) -> dict[str, float]:
    """The median cost of each action, run in turn (after one warm-up each) so the machine's load falls on all alike."""
    for action in actions.values():
        action()
    spent: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            spent[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in spent.items()}


async def over_http(bot, base, incoming, runs: int) -> dict[str, float]:
    """The whole acceptance as a monitoring tool sees it: signed POST /signals until its 202, base intake against today's."""
    app = build_app(bot, signals_secret=SECRET)
    today = web_signals.receive
    spent: dict[str, list[float]] = {"base": [], "new": []}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for round_ in range(runs + 1):
            for name, receive in (("base", base.receive), ("new", today)):
                web_signals.receive = receive
                body = json.dumps(incoming()).encode()
                started = time.perf_counter()
                answer = await client.post("/signals", content=body, headers={HEADER: signature(SECRET, body)})
                if round_:  # the first round warms both
                    spent[name].append(time.perf_counter() - started)
                assert answer.status_code == 202, answer.text
    web_signals.receive = today
    return {name: statistics.median(values) for name, values in spent.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--signals", type=int, default=100_000)
    parser.add_argument("--base", default="ac9f3ee", help="the commit whose intake is the baseline")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="onevoice-reaction-"))
    config = load_config(None)
    config.signals.per_source_per_minute = 10**9
    config.triage_room = RoomHandles(console="triage")
    clock = FakeClock()
    bot = OneVoice(Settings(ONEVOICE_DATABASE_URL=f"sqlite:///{folder / 'bench.db'}"), config=config, clock=clock)
    bot.attach(ConsoleAdapter(io.StringIO()))
    engine, deps = bot.engine, bot.deps

    def say(line: str):
        with session(engine) as db:
            return dispatch(db, deps, Command(UserRef("console", "alice"), line, RoomRef("console", "lobby"), None))

    declared = clock.now()
    small, big = (
        say("declare product-quality sev2 Small reaction").incident_id,
        say("declare product-quality sev2 Big reaction").incident_id,
    )
    started = time.monotonic()
    fill(engine, small, 100, declared, 1)
    fill(engine, big, args.signals, declared, 1000)
    clock.advance(timedelta(hours=24))
    print(f"filled: 100 and {args.signals:,} attached signals in {time.monotonic() - started:.1f} s")
    reports = folder / "reports"

    def report(number: int) -> None:
        with session(engine) as db:
            write_report(db, config, number, clock.now(), reports)

    def reaction(number: int) -> None:
        reply = say(f"#{number} reaction")
        assert reply.ok and "Reaction to" in reply.message.plain(), reply.message.plain()

    figures = {}
    for name, action in (("reaction", reaction), ("report", report)):
        cost = alternated({"small": lambda act=action: act(small), "big": lambda act=action: act(big)}, args.runs)
        figures[name] = cost["big"] / cost["small"]
        small_ms, big_ms = cost["small"] * 1000, cost["big"] * 1000
        print(f"{name:9}: 100 signals {small_ms:.1f} ms, {args.signals:,} {big_ms:.1f} ms, ratio {figures[name]:.2f}")

    base = old_intake(args.base)
    counter = iter(range(10**9))

    def incoming() -> dict:
        n = next(counter)
        clock.advance(timedelta(seconds=1))
        return {
            "source": f"s{n}",
            "title": f"PB-20 post {n}",
            "volume": 5,
            "sentiment": -0.3,
            "keywords": ["PB-20"],
            "dedup_key": f"new-{n}",
        }

    def accept(module) -> None:
        with session(engine) as db:
            module.receive(db, deps, intake.SignalIn.model_validate(incoming()))

    cost = alternated({"base": lambda: accept(base), "new": lambda: accept(intake)}, args.runs * 4)
    figures["intake"] = cost["new"] / cost["base"]
    old_ms, new_ms = cost["base"] * 1000, cost["new"] * 1000
    print(f"intake   : receive() at {args.base} {old_ms:.2f} ms, with attachment {new_ms:.2f} ms, ratio {figures['intake']:.2f}")
    http = asyncio.run(over_http(bot, base, incoming, args.runs * 4))
    figures["intake_http"] = http["new"] / http["base"]
    old_ms, new_ms = http["base"] * 1000, http["new"] * 1000
    print(f"POST /signals → 202 at {args.base} {old_ms:.2f} ms, with attachment {new_ms:.2f} ms, ratio {figures['intake_http']:.2f}")
    failed = [name for name, ratio in figures.items() if ratio > TARGETS[name]]
    print("within targets" if not failed else f"over target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
