"""Two `onevoice` processes on one PostgreSQL database share 1,000 due nudges: each fires exactly once in total."""

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import func, select

from storage.db import session, upgrade
from storage.models import ChecklistItem, Incident, Nudge, Outbox
from tests.conftest import POSTGRES_URL, postgres_engine_or_skip
from tests.e2e.conftest import Onevoice

COUNT = 1000
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ITEM = re.compile(r"checklist item (\d+) “Task \d+” is overdue")


def seed(engine) -> None:
    """One sev1 incident with 1,000 checklist items, each with an overdue nudge for dave."""
    with session(engine) as db:
        incident = Incident(
            title="Load",
            slug="load",
            playbook="outage",
            severity="sev1",
            phase="responding",
            declared_by="alice",
            declared_at=NOW,
            phase_changed_at=NOW,
        )
        db.add(incident)
        db.flush()
        for n in range(1, COUNT + 1):
            due = NOW + timedelta(seconds=6)  # once both processes are up: neither may do it all before the other starts
            db.add(ChecklistItem(incident_id=incident.id, number=n, title=f"Task {n}", owner_person="dave", phase="responding", due_at=due))
            db.add(
                Nudge(
                    incident_id=incident.id,
                    kind="task_overdue",
                    subject=str(n),
                    target="person:dave",
                    due_at=due,
                    first_due_at=due,
                    created_at=NOW,
                )
            )
        db.commit()


def settled(engine) -> bool:
    with session(engine) as db:
        waiting = db.exec(select(func.count()).where(Nudge.state == "pending")).one()
        undelivered = db.exec(select(func.count()).where(Outbox.state == "pending")).one()
    return waiting == 0 and undelivered == 0


def test_two_processes_fire_each_of_1000_nudges_exactly_once(tmp_path):
    base, engine, schema = postgres_engine_or_skip()
    try:
        upgrade(engine)
        seed(engine)
        onevoice = Onevoice(tmp_path)
        env = {
            **onevoice.env,
            "ONEVOICE_DATABASE_URL": f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
            "ONEVOICE_CLOCK_START": NOW.isoformat(),
        }
        logs = [tmp_path / f"process{i}.log" for i in range(2)]
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "console", "--as", "alice"],
                stdin=subprocess.PIPE,
                stdout=log.open("w"),  # a file, not a pipe: a full pipe would stall a process mid-delivery
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
                env=env,
                text=True,
            )
            for log in logs
        ]
        deadline = time.monotonic() + 120
        while not settled(engine) and time.monotonic() < deadline:
            time.sleep(0.5)
        for process in processes:
            process.communicate(input="", timeout=60)
        outputs = [log.read_text() for log in logs]
        assert all(p.returncode == 0 for p in processes), [out[-2000:] for out in outputs]
        assert not any("Traceback" in out for out in outputs), outputs
        per_process = [Counter(ITEM.findall(out)) for out in outputs]
        total = per_process[0] + per_process[1]
        assert sorted(int(n) for n in total) == list(range(1, COUNT + 1))  # every nudge delivered…
        assert set(total.values()) == {1}  # …exactly once in total
        assert all(sum(counts.values()) > 0 for counts in per_process), "both processes should have shared the work"
        with session(engine) as db:
            assert set(db.exec(select(Nudge.state)).all()) == {"fired"}
    finally:
        engine.dispose()
        with base.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            connection.commit()
        base.dispose()
