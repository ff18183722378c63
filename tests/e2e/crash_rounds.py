"""Rounds of SIGKILL in the middle of delivery, for tests/e2e/test_crash.py (10 rounds) and bench/replicas.py (100).

Each round seeds reminders that fall due at once, wakes the replicas, kills one of them as soon as part of the round has
reached Slack, restarts it, and waits until the round is done. Then it counts, per reminder, how often Slack got it.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import func, select

from storage.db import session
from storage.models import Nudge
from tests.e2e.replicas import Replicas, backlog, people, seed_overdue

PER_ROUND = 24
REMINDER = re.compile(r"“Task (r\d+-\d+)” is overdue")


@dataclass
class Tally:
    """What the rounds did: reminders due, lost, delivered twice (the at-least-once window), and the seconds each took."""

    due: int = 0
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


async def wake(replicas: Replicas, alive: list[int]) -> None:
    """A cheap slash command to each live replica: work arrived, so it fires and delivers now (as traffic does)."""
    for index in alive:
        body, headers = replicas.slash("help")
        assert await replicas.post(index, body, headers) == 200


def delivered(replicas: Replicas, label: str) -> int:
    return sum(1 for text in replicas.texts() for match in REMINDER.findall(text) if match.startswith(label))


async def crash_round(replicas: Replicas, engine, number: int, team: int, due: datetime, timeout: float = 90) -> Tally:
    """Seed a round, kill replica `number % 2` mid-delivery, restart it, wait for the round, and count."""
    label, victim = f"r{number}-", number % 2
    started = time.monotonic()
    incident = seed_overdue(engine, PER_ROUND, people(team), due, label)
    await wake(replicas, [0, 1])
    deadline = time.monotonic() + timeout
    while delivered(replicas, label) < PER_ROUND // 3:
        assert time.monotonic() < deadline, f"round {number}: delivery never started"
        await asyncio.sleep(0.02)
    replicas.kill(victim)  # in the middle of delivery: some of the round sent, some claimed, some not yet
    await replicas.start_one(victim)
    while True:
        with session(engine) as db:
            unfired = db.exec(select(func.count()).where(Nudge.incident_id == incident, Nudge.state != "fired")).one()
        if unfired == 0 and backlog(engine)[1] == 0:
            break
        assert time.monotonic() < deadline, f"round {number}: {unfired} reminders and {backlog(engine)} left"
        await wake(replicas, [0, 1])
        await asyncio.sleep(0.5)
    counts: dict[str, int] = {f"{label}{n}": 0 for n in range(1, PER_ROUND + 1)}
    for text in replicas.texts():
        for match in REMINDER.findall(text):
            if match in counts:
                counts[match] += 1
    tally = Tally(due=PER_ROUND, seconds=[time.monotonic() - started])
    tally.lost = [name for name, seen in counts.items() if seen == 0]
    tally.doubled = [name for name, seen in counts.items() if seen > 1]
    return tally


async def run_rounds(replicas: Replicas, engine, rounds: int, team: int, due: datetime) -> Tally:
    """`rounds` crash rounds in a row; their tallies added up."""
    total = Tally()
    for number in range(rounds):
        tally = await crash_round(replicas, engine, number, team, due)
        total.due += tally.due
        total.lost += tally.lost
        total.doubled += tally.doubled
        total.seconds += tally.seconds
    return total
