"""Two `onevoice` processes on one PostgreSQL database share 1,000 due nudges: each fires exactly once in total."""

import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from storage.db import session
from storage.models import Nudge, Outbox
from tests.conftest import private_schema
from tests.e2e.conftest import Onevoice
from tests.e2e.replicas import seed_overdue

COUNT = 1000
ITEM = re.compile(r"checklist item (\d+) “Task \d+” is overdue")


def settled(engine) -> bool:
    with session(engine) as db:
        waiting = db.exec(select(func.count()).where(Nudge.state == "pending")).one()
        undelivered = db.exec(select(func.count()).where(Outbox.state == "pending")).one()
    return waiting == 0 and undelivered == 0


def test_two_processes_fire_each_of_1000_nudges_exactly_once(tmp_path):
    with private_schema() as (engine, url):
        # due on the real clock once both processes are up, so that neither does it all before the other has started
        seed_overdue(engine, COUNT, ["dave"], datetime.now(UTC) + timedelta(seconds=15))
        onevoice = Onevoice(tmp_path)
        env = {**onevoice.env, "ONEVOICE_DATABASE_URL": url}
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
