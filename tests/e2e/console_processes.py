"""Two `onevoice console` processes on one PostgreSQL schema sharing a backlog of due nudges: for
tests/e2e/test_two_processes.py (500 nudges) and bench/two_processes.py (1,000)."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import func, select

from storage.db import session
from storage.models import Nudge, Outbox
from tests.e2e.conftest import Onevoice
from tests.e2e.forked_run import Forked, spawn_piped
from tests.e2e.replicas import seed_overdue

ITEM = re.compile(r"checklist item (\d+) “Task \d+” is overdue")
LEAD = timedelta(seconds=2)  # due this long after both processes were told: both wake for it at the same moment


def settled(engine) -> bool:
    with session(engine) as db:
        waiting = db.exec(select(func.count()).where(Nudge.state == "pending")).one()
        undelivered = db.exec(select(func.count()).where(Outbox.state == "pending")).one()
    return waiting == 0 and undelivered == 0


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def share(folder: Path, engine, url: str, count: int) -> tuple[list[Forked], list[str], list[Counter], set[str]]:
    """Start two consoles, wait until each reads its input, seed `count` nudges due shortly, tell both (a typed line makes
    a console look for its next due nudge), wait until all fired and were delivered, end both; the processes, their
    outputs, the overdue items each printed, and the nudge states left."""
    onevoice = Onevoice(folder)
    env = {**onevoice.env, "ONEVOICE_DATABASE_URL": url}
    logs = [folder / f"process{i}.log" for i in range(2)]
    for log in logs:
        log.write_text("")  # a file, not a pipe: a full pipe would stall a process mid-delivery
    # each `onevoice console --as alice` forked from one that imported the bot (test_console.py starts a fresh one)
    processes = [spawn_piped(["console", "--as", "alice"], env, folder, log) for log in logs]
    for process in processes:
        process.stdin.write("/crisis help status\n")
        process.stdin.flush()
    for log in logs:  # the console echoes each line it reads: it is up, its scheduler started
        wait_for(lambda log=log: "alice @ #lobby> /crisis help status" in log.read_text(), 120, f"{log.name} to start")
    seed_overdue(engine, count, ["dave"], datetime.now(UTC) + LEAD)
    for process in processes:
        process.stdin.write("/crisis help\n")
    for process in processes:
        process.stdin.flush()
    wait_for(lambda: settled(engine), 120, "every nudge fired and delivered")
    for process in processes:
        process.communicate(input="", timeout=60)
    outputs = [log.read_text() for log in logs]
    with session(engine) as db:
        states = set(db.exec(select(Nudge.state)).all())
    return processes, outputs, [Counter(ITEM.findall(out)) for out in outputs], states
