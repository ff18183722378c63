"""Rounds of SIGKILL in the middle of delivery, for tests/e2e/test_crash.py (10 rounds) and bench/replicas.py (100).

Each round seeds reminders that fall due at once, wakes the replicas, kills one of them as soon as part of the round has
reached Slack and restarts it in the background; the next round starts at once and kills the other replica (the one
killed before it is awaited up first). Once every round's reminders are delivered, it counts, per reminder, how often
Slack got it.
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

PER_ROUND = 24  # reminders a round, bench/replicas.py's; the test's rounds are smaller (tests/e2e/test_crash.py)
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


class Rounds:
    """Crash rounds in flight one after another: a round's victim is restarted while the next round kills the other
    replica, and the leases the dead leave behind expire meanwhile rather than one round at a time."""

    def __init__(self, replicas: Replicas, engine, team: int, due: datetime, timeout: float = 90, per_round: int = PER_ROUND):
        self.replicas, self.engine, self.team, self.due, self.timeout = replicas, engine, team, due, timeout
        self.per_round = per_round
        self.restarting: dict[int, asyncio.Task] = {}
        self.incidents: dict[str, int] = {}
        self.seconds: list[float] = []

    def up(self) -> list[int]:
        return [index for index in (0, 1) if index not in self.restarting or self.restarting[index].done()]

    async def kill_mid_delivery(self, number: int) -> None:
        """Seed round `number`, and SIGKILL replica `number % 2` once part of the round has reached Slack; it restarts
        in the background."""
        label, victim = f"r{number}-", number % 2
        if victim in self.restarting:  # killed two rounds ago: it must be up (and delivering) to be killed again
            await self.restarting.pop(victim)
        started = time.monotonic()
        self.incidents[label] = seed_overdue(self.engine, self.per_round, people(self.team), self.due, label)
        await wake(self.replicas, self.up())
        deadline = started + self.timeout
        while delivered(self.replicas, label) < self.per_round // 3:
            assert time.monotonic() < deadline, f"round {number}: delivery never started"
            await asyncio.sleep(0.02)
        self.replicas.kill(victim)  # in the middle of delivery: some of the round sent, some claimed, some not yet
        self.restarting[victim] = asyncio.create_task(self.replicas.start_one(victim))
        self.seconds.append(time.monotonic() - started)

    async def finish(self) -> None:
        """Both replicas back, and every round's reminders fired and delivered."""
        for index in list(self.restarting):
            await self.restarting.pop(index)
        deadline = time.monotonic() + self.timeout
        while True:
            with session(self.engine) as db:
                unfired = db.exec(
                    select(func.count()).where(Nudge.incident_id.in_(list(self.incidents.values())), Nudge.state != "fired")
                ).one()
            if unfired == 0 and backlog(self.engine)[1] == 0:
                return
            assert time.monotonic() < deadline, f"{unfired} reminders and {backlog(self.engine)} left"
            await wake(self.replicas, [0, 1])
            await asyncio.sleep(0.2)

    def tally(self) -> Tally:
        """Per reminder, how often Slack got it."""
        counts = {f"{label}{n}": 0 for label in self.incidents for n in range(1, self.per_round + 1)}
        for text in self.replicas.texts():
            for match in REMINDER.findall(text):
                if match in counts:
                    counts[match] += 1
        lost = [name for name, seen in counts.items() if seen == 0]
        doubled = [name for name, seen in counts.items() if seen > 1]
        return Tally(due=len(counts), lost=lost, doubled=doubled, seconds=self.seconds)


async def run_rounds(replicas: Replicas, engine, rounds: int, team: int, due: datetime, per_round: int = PER_ROUND) -> Tally:
    """`rounds` crash rounds of `per_round` reminders, each started as soon as the one before has killed its replica;
    counted at the end. Tally.seconds: per round, from its seeding to its kill."""
    play = Rounds(replicas, engine, team, due, per_round=per_round)
    for number in range(rounds):
        await play.kill_mid_delivery(number)
    await play.finish()
    return play.tally()
