"""The exactly-once run of tests/e2e/test_replicas.py (200 reminders) and bench/replica_soak.py (2,000): replicas on one
PostgreSQL schema take declares, updates (some retried to another replica) and a backlog of overdue reminders."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import func, select

from storage.db import session
from storage.models import Incident, Nudge, Outbox
from tests.e2e.replicas import Replicas, backlog, people, seed_overdue, team_config

OVERDUE = re.compile(r"checklist item (\d+) “Task \d+” is overdue")
UPDATE = re.compile(r"replica update (U\d{3})\b")


@dataclass
class Found:
    """What the run left: incidents, rooms, outbox states, the updates posted in rooms, each reminder's count, exit codes."""

    titles: list[str]
    declared: list[str]
    rooms: list[str]
    states: dict[str, int]
    updates_in_rooms: list[str]
    reminders: Counter
    exit_codes: list[int | None]


async def send_all(replicas: Replicas, count: int, texts: list[str], twice_every: int) -> None:
    """Each command to the next replica in turn; every `twice_every`-th one also to the replica after (a Slack retry)."""
    for start in range(0, len(texts), 10):  # ten at a time: a burst, as a busy team sends them
        sends = []
        for n in range(start, min(start + 10, len(texts))):
            body, headers = replicas.slash(texts[n])
            sends.append(replicas.post(n % count, body, headers))
            if n % twice_every == 0:
                sends.append(replicas.post((n + 1) % count, body, replicas.fake.with_retry(headers)))
        assert set(await asyncio.gather(*sends)) == {200}


async def until(condition, timeout: float, what) -> None:
    """Poll the database until condition() holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what()}"
        await asyncio.sleep(0.2)


async def exactly_once_run(
    folder: Path, engine, url: str, due: datetime, count: int, declares: int, updates: int, nudges: int, team: int, env: dict | None = None
) -> Found:
    """Seed `nudges` overdue reminders, start `count` replicas (with `env` set), send the declares then the updates, wait
    until every reminder fired and the outbox is empty, stop the replicas; what the fake Slack and the database hold."""
    seeded = seed_overdue(engine, nudges, people(team), due)
    titles = [f"Replica incident D{n:03d}" for n in range(declares)]

    def incidents() -> dict[str, int]:
        with session(engine) as db:
            return dict(db.exec(select(Incident.title, Incident.id).where(Incident.id != seeded)).all())

    def unfired() -> int:
        with session(engine) as db:
            return db.exec(select(func.count()).where(Nudge.incident_id == seeded, Nudge.state != "fired")).one()

    async with Replicas(folder, url, team_config(folder, team), due, env) as replicas:
        await replicas.start(count)
        await send_all(replicas, count, [f"declare outage sev3 {title}" for title in titles], twice_every=4)
        await until(lambda: len(incidents()) >= declares, 60, lambda: f"the declares ({len(incidents())} of {declares})")
        ids = incidents()
        texts = [f"#{ids[titles[n % declares]]} update replica update U{n:03d} for the press desk" for n in range(updates)]
        await send_all(replicas, count, texts, twice_every=8)
        await until(lambda: unfired() == 0 and backlog(engine)[1] == 0, 300, lambda: f"{unfired()} reminders, {backlog(engine)}")

        with session(engine) as db:
            declared = list(db.exec(select(Incident.title).where(Incident.id != seeded)).all())
            states = dict(db.exec(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
        fake = replicas.fake
        rooms = [c["name"] for c in fake.channels.values() if c["name"].startswith("crisis-")]
        in_rooms = [m for m in fake.messages if not m.get("ephemeral") and m["channel"] in fake.channels]
        posted = [(m["channel"], u) for m in in_rooms for u in UPDATE.findall(m.get("text") or "")]
        update_rooms = {c for c, _u in posted if fake.channels[c]["name"].startswith("crisis-")}
        updates_in_rooms = [u for c, u in posted if c in update_rooms]
        reminders = replicas.count_of(OVERDUE)
        codes = await replicas.stop()
    return Found(titles, declared, rooms, states, updates_in_rooms, reminders, codes)
