"""Several replicas on PostgreSQL: commands per second and reminder lag for 1, 2 and 3 replicas, then SIGKILL rounds.

Each configuration runs real `onevoice run` processes (tests/e2e/replicas.py) on a fresh PostgreSQL schema behind one
fake Slack on loopback, on the real clock.
- Commands: six incidents are declared (their rooms opened first), then `--commands` signed `/crisis #N note …` requests
  are spread over the incidents and the replicas, 20 in flight at a time; commands per second = commands / seconds
  until the last one is committed (each is committed before Slack gets its ack). Scaling = commands per second of
  N replicas / of 1, measured in the same run.
- Reminders: `--reminders` overdue-item reminders for 250 people are written due now and the replicas woken; the lag of
  each is the time from then until Slack received it (median, p99, last).
- Crash rounds (2 replicas, `--rounds`, default 100): tests/e2e/crash_rounds.py, 24 reminders a round, one replica
  SIGKILLed in the middle of delivery and restarted each round; prints reminders lost (must be 0) and sent twice (the
  at-least-once window: a call Slack did but the killed replica never heard back from).
Run: python bench/replicas.py [--commands 300] [--reminders 1000] [--rounds 100] [--lease 3]
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select  # noqa: E402

from storage.db import session  # noqa: E402
from storage.models import Incident, ProcessedEvent  # noqa: E402
from tests.conftest import private_schema  # noqa: E402
from tests.e2e.crash_rounds import run_rounds  # noqa: E402
from tests.e2e.replicas import Replicas, backlog, people, seed_overdue, team_config  # noqa: E402

PEOPLE = 250
INCIDENTS = 6  # commands are spread over several open incidents, as in a busy week


async def until(condition, timeout: float, what: str) -> float:
    """Poll until condition() holds; the monotonic time it did."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic()


def count(engine, query) -> int:
    with session(engine) as db:
        return db.exec(query).one()


async def commands_per_second(replicas: Replicas, engine, n: int, commands: int) -> float:
    """Declare a few incidents and let their rooms open, then `commands` notes spread over them and over the replicas;
    commands committed per second."""
    for k in range(INCIDENTS):
        await replicas.post(k % n, *replicas.slash(f"declare outage sev3 Bench replicas {k}"))
    await until(lambda: count(engine, select(func.count()).select_from(Incident)) == INCIDENTS, 60, "the declares")
    await until(lambda: backlog(engine)[1] == 0, 120, "the rooms opened")
    with session(engine) as db:
        incidents = list(db.exec(select(Incident.id)))
    done_before = count(engine, select(func.count()).select_from(ProcessedEvent))
    requests = [replicas.slash(f"#{incidents[k % INCIDENTS]} note bench note {k} from the press desk") for k in range(commands)]
    started = time.monotonic()
    for first in range(0, commands, 20):
        sent = [replicas.post(k % n, *requests[k]) for k in range(first, min(first + 20, commands))]
        if set(await asyncio.gather(*sent)) != {200}:
            raise SystemExit("a command was not acknowledged")
    finished = await until(
        lambda: count(engine, select(func.count()).select_from(ProcessedEvent)) >= done_before + commands, 120, "the commands"
    )
    return commands / (finished - started)


async def reminder_lag(replicas: Replicas, engine, n: int, reminders: int) -> list[float]:
    """Seconds from waking the replicas to Slack receiving each of `reminders` reminders due now."""
    seed_overdue(engine, reminders, people(PEOPLE), datetime.now(UTC) - timedelta(seconds=1), "lag-")
    calls_before = len(replicas.fake.calls)
    started = time.monotonic()
    for index in range(n):
        await replicas.post(index, *replicas.slash("help"))
    fake = replicas.fake

    def arrived() -> list[float]:
        return [
            at - started
            for (method, params), at in zip(fake.calls[calls_before:], fake.call_times[calls_before:], strict=True)
            if method == "chat.postMessage" and "“Task lag-" in str(params.get("text", ""))
        ]

    await until(lambda: len(arrived()) >= reminders, 300, "the reminders")
    return sorted(arrived())


async def one_configuration(n: int, commands: int, reminders: int) -> tuple[float, list[float]]:
    with private_schema() as (engine, url), tempfile.TemporaryDirectory(prefix="onevoice-replicas-") as folder:
        async with Replicas(Path(folder), url, team_config(Path(folder), PEOPLE), None) as replicas:
            await replicas.start(n)
            rate = await commands_per_second(replicas, engine, n, commands)
            lags = await reminder_lag(replicas, engine, n, reminders)
        return rate, lags


async def crash(rounds: int, lease: str) -> None:
    with private_schema() as (engine, url), tempfile.TemporaryDirectory(prefix="onevoice-crash-") as folder:
        async with Replicas(
            Path(folder), url, team_config(Path(folder), 40), None, env={"ONEVOICE_LEASE_SECONDS": lease, "ONEVOICE_TICK_SECONDS": "1"}
        ) as replicas:
            replicas.fake.latency["chat.postMessage"] = 0.1
            await replicas.start(2)
            tally = await run_rounds(replicas, engine, rounds, 40, datetime.now(UTC) - timedelta(minutes=5))
    seconds = statistics.median(tally.seconds)
    print(
        f"crash rounds: {rounds} SIGKILLs mid-delivery, {tally.due} reminders due, lost {len(tally.lost)}, sent twice {len(tally.doubled)}"
    )
    print(
        f"  at-least-once window: {len(tally.doubled) / rounds:.2f} doubles per kill (bound: 1, the call in flight);"
        f" median round {seconds:.1f} s"
    )


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, int(len(ordered) * share) - 1)]


async def main(args) -> None:
    rates = {}
    for n in (1, 2, 3):
        rate, lags = await one_configuration(n, args.commands, args.reminders)
        rates[n] = rate
        print(
            f"{n} replica{'s' if n > 1 else ' '}: {rate:7.1f} commands/s (scaling ×{rate / rates[1]:.2f})  reminder lag: "
            f"median {statistics.median(lags):.2f} s, p99 {percentile(lags, 0.99):.2f} s, last {lags[-1]:.2f} s ({len(lags)} reminders)",
            flush=True,
        )
    if args.rounds:
        await crash(args.rounds, args.lease)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--lease", default="6", help="ONEVOICE_LEASE_SECONDS for the crash rounds")
    asyncio.run(main(parser.parse_args()))
