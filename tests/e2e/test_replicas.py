"""Three `onevoice run` replicas on one PostgreSQL database behind one fake Slack: nothing lost, nothing twice.

200 signed slash commands are spread across the replicas (40 declares, 160 updates), 30 of them delivered a second
time to another replica as Slack's retries are; meanwhile 2,000 overdue-item reminders fall due for 250 people.
"""

import asyncio
import re
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from storage.db import session
from storage.models import Incident, Nudge, Outbox
from tests.conftest import private_schema
from tests.e2e.replicas import Replicas, backlog, people, seed_overdue, team_config

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
REPLICAS, DECLARES, UPDATES, NUDGES, PEOPLE = 3, 40, 160, 2000, 250
OVERDUE = re.compile(r"checklist item (\d+) “Task \d+” is overdue")
UPDATE = re.compile(r"replica update (U\d{3})\b")


async def send_all(replicas: Replicas, texts: list[str], twice_every: int) -> None:
    """Each command to the next replica in turn; every `twice_every`-th one also to the replica after (a Slack retry)."""
    for start in range(0, len(texts), 10):  # ten at a time: a burst, as a busy team sends them
        sends = []
        for n in range(start, min(start + 10, len(texts))):
            body, headers = replicas.slash(texts[n])
            sends.append(replicas.post(n % REPLICAS, body, headers))
            if n % twice_every == 0:
                sends.append(replicas.post((n + 1) % REPLICAS, body, replicas.fake.with_retry(headers)))
        assert set(await asyncio.gather(*sends)) == {200}


async def settle(replicas: Replicas, engine, seeded: int, timeout: float = 300) -> None:
    """Wait until every seeded reminder has fired and the outbox is empty."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with session(engine) as db:
            unfired = db.exec(select(func.count()).where(Nudge.incident_id == seeded, Nudge.state != "fired")).one()
        if unfired == 0 and backlog(engine)[1] == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"still {unfired} reminders and {backlog(engine)} to go"
        await asyncio.sleep(0.5)


async def test_three_replicas_do_each_command_and_each_reminder_exactly_once(tmp_path):
    with private_schema() as (engine, url):
        seeded = seed_overdue(engine, NUDGES, people(PEOPLE), NOW - timedelta(minutes=5))
        async with Replicas(tmp_path, url, team_config(tmp_path, PEOPLE), NOW) as replicas:
            await replicas.start(REPLICAS)
            await send_all(replicas, [f"declare outage sev3 Replica incident D{n:03d}" for n in range(DECLARES)], twice_every=4)
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                with session(engine) as db:
                    ids = dict(db.exec(select(Incident.title, Incident.id).where(Incident.id != seeded)).all())
                if len(ids) >= DECLARES or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
            titles = [f"Replica incident D{n:03d}" for n in range(DECLARES)]
            updates = [f"#{ids[titles[n % DECLARES]]} update replica update U{n:03d} for the press desk" for n in range(UPDATES)]
            await send_all(replicas, updates, twice_every=8)
            await settle(replicas, engine, seeded)

            with session(engine) as db:
                declared = db.exec(select(Incident.title).where(Incident.id != seeded)).all()
                states = dict(db.exec(select(Outbox.state, func.count()).group_by(Outbox.state)).all())
            assert sorted(declared) == titles  # exactly one incident per declare, retries included
            rooms = [c["name"] for c in replicas.fake.channels.values() if c["name"].startswith("crisis-")]
            assert len(rooms) == DECLARES and len(set(rooms)) == DECLARES
            assert states == {"sent": states.get("sent", 0)} and states["sent"] > NUDGES  # every effect delivered, none failed
            in_rooms = [m for m in replicas.fake.messages if not m.get("ephemeral") and m["channel"] in replicas.fake.channels]
            posted = [(m["channel"], u) for m in in_rooms for u in UPDATE.findall(m.get("text") or "")]
            update_rooms = {c for c, _u in posted if replicas.fake.channels[c]["name"].startswith("crisis-")}
            per_room = [u for c, u in posted if c in update_rooms]
            assert sorted(per_room) == sorted(f"U{n:03d}" for n in range(UPDATES))  # each update once in its room
            reminders = replicas.count_of(OVERDUE)
            assert sorted(int(n) for n in reminders) == list(range(1, NUDGES + 1))  # every reminder delivered…
            assert set(reminders.values()) == {1}  # …exactly once across the three replicas
            assert await replicas.stop() == [0] * REPLICAS
