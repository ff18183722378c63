"""Several `onevoice run` processes on one PostgreSQL schema behind one fake Slack: the replica set of issue 9.

Used by tests/e2e/test_replicas.py, tests/e2e/test_crash.py and bench/replicas.py. Each replica has its own HTTP port
and log file; they share the database and the fake Slack, as replicas behind a load balancer share a workspace.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import yaml
from sqlmodel import func, select

from config.load import STARTER
from storage.db import session
from storage.models import ChecklistItem, Incident, Nudge, Outbox
from tests.e2e.forked_run import Forked, replica_seed, spawn
from tests.e2e.run_process import free_port, unexpected_tracebacks
from tests.fakes.slack_api import FakeSlack, unescape

ROOT = Path(__file__).resolve().parents[2]
SECRET = "replica-signing-secret"
GENERAL = "C0GENERAL"
ALICE = "U0ALICE"


def people(count: int) -> list[str]:
    """The keys of the extra members team_config adds: p000, p001, …"""
    return [f"p{n:03d}" for n in range(count)]


def team_config(folder: Path, extra_people: int) -> Path:
    """The starter team plus `extra_people` members (p000, p001, …), each with a Slack id: a larger organisation."""
    config = yaml.safe_load(STARTER.read_text(encoding="utf-8"))
    for key in people(extra_people):
        config["team"]["people"][key] = {"name": f"Person {key[1:]}", "roles": ["scribe"], "slack": f"U0P{key[1:]}"}
    path = folder / "onevoice.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def seed_overdue(engine, count: int, owners: list[str], due: datetime, label: str = "") -> int:
    """One sev1 incident whose `count` checklist items (“Task <label><n>”) are overdue, owned by `owners` in turn; one
    reminder each. Its id."""
    with session(engine) as db:
        incident = Incident(
            title="Overdue load",
            slug="overdue-load",
            playbook="outage",
            severity="sev1",
            phase="responding",
            declared_by="alice",
            declared_at=due - timedelta(hours=1),
            phase_changed_at=due - timedelta(hours=1),
        )
        db.add(incident)
        db.flush()
        for n in range(1, count + 1):
            owner = owners[n % len(owners)]
            db.add(
                ChecklistItem(
                    incident_id=incident.id, number=n, title=f"Task {label}{n}", owner_person=owner, phase="responding", due_at=due
                )
            )
            db.add(
                Nudge(
                    incident_id=incident.id,
                    kind="task_overdue",
                    subject=str(n),
                    target=f"person:{owner}",
                    due_at=due,
                    first_due_at=due,
                    created_at=due,
                )
            )
        incident.last_task_number = count
        db.commit()
        return incident.id


def backlog(engine) -> tuple[int, int]:
    """(nudges still waiting, effects still to deliver)."""
    with session(engine) as db:
        waiting = db.exec(select(func.count()).where(Nudge.state.in_(("pending", "snoozed")))).one()
        undelivered = db.exec(select(func.count()).where(Outbox.state == "pending")).one()
    return waiting, undelivered


class Replicas:
    """N `onevoice run` processes (Slack over HTTP) on one database, sharing one fake Slack."""

    def __init__(self, folder: Path, database_url: str, config: Path, clock_start: datetime | None, env: dict | None = None):
        self.folder, self.database_url, self.config, self.clock_start = folder, database_url, config, clock_start
        self.extra_env = env or {}
        self.fake = FakeSlack(signing_secret=SECRET)
        self.processes: dict[int, Forked] = {}
        self.ports: dict[int, int] = {}
        self.logs: dict[int, list[Path]] = {}  # every log a replica slot has had (a restarted replica writes a new one)
        self.http: aiohttp.ClientSession | None = None
        self.allowed_tracebacks: list[str] = []
        self.stopped = False

    async def __aenter__(self) -> Replicas:
        return self

    async def __aexit__(self, *_exc) -> None:
        if not self.stopped:  # a test that failed midway: stop them all the same
            await self.stop()

    async def start(self, count: int) -> Replicas:
        await self.fake.start()
        self.fake.add_channel("general", channel_id=GENERAL, members=[self.fake.bot_user_id])
        self.fake.add_channel("newsroom", channel_id="C0NEWS", members=[self.fake.bot_user_id])
        self.http = aiohttp.ClientSession()
        await asyncio.gather(*(self.start_one(i) for i in range(count)))
        return self

    async def start_one(self, index: int, timeout: float = 60) -> None:
        """Start (or restart) replica `index` and wait for its 'OneVoice running' line."""
        self.ports[index] = free_port()
        log = self.folder / f"replica{index}-{len(self.logs.get(index, []))}.log"
        self.logs.setdefault(index, []).append(log)
        env = {
            **os.environ,
            "ONEVOICE_CONFIG": str(self.config),
            "ONEVOICE_DATABASE_URL": self.database_url,
            "SLACK_BOT_TOKEN": self.fake.token,
            "SLACK_SIGNING_SECRET": SECRET,
            "ONEVOICE_SLACK_API_URL": self.fake.api_url,
            "ONEVOICE_HTTP_HOST": "127.0.0.1",
            "ONEVOICE_HTTP_PORT": str(self.ports[index]),
            "ONEVOICE_ADMIN_PORT": str(free_port()),
            "PYTHONPATH": str(ROOT),
            **replica_seed(index),  # neighbours order sets differently, as separately started replicas would
            **self.extra_env,
        }
        if self.clock_start is not None:  # a clock per process, from this instant: unset, every replica reads the same real time
            env["ONEVOICE_CLOCK_START"] = self.clock_start.isoformat()
        for name in ("SLACK_APP_TOKEN", "TELEGRAM_BOT_TOKEN"):
            env.pop(name, None)
        log.write_text("")  # a file, not a pipe: an unread pipe would stall the process
        self.processes[index] = await asyncio.to_thread(spawn, ["run"], env, self.folder, log)  # forked, off the loop (see run_process)
        deadline = time.monotonic() + timeout
        while "OneVoice running" not in log.read_text(errors="replace"):
            if self.processes[index].poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"replica {index} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            await asyncio.sleep(0.1)

    def kill(self, index: int) -> None:
        """SIGKILL: no goodbye, its leases are left to expire."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(10)

    async def stop(self) -> list[int | None]:
        """SIGTERM every replica still running; then no log may hold an unexpected traceback."""
        self.stopped = True
        codes = []
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                codes.append(await asyncio.to_thread(process.wait, 30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(None)
        if self.http is not None:
            await self.http.close()
        await self.fake.stop()
        for log in self.all_logs():
            text = log.read_text(errors="replace")
            assert not unexpected_tracebacks(text, self.allowed_tracebacks), f"{log.name}:\n{text[-5000:]}"
        assert not self.fake.internal_errors, self.fake.internal_errors
        return codes

    def all_logs(self) -> list[Path]:
        return [log for logs in self.logs.values() for log in logs]

    # ---- what Slack sends

    def slash(self, text: str, user: str = ALICE, channel: str = GENERAL) -> tuple[bytes, dict]:
        """A signed `/crisis …` request (with its own trigger id), to send to one replica or more."""
        return self.fake.slash_command(user, text, channel)

    async def post(self, index: int, body: bytes, headers: dict) -> int:
        """POST a Slack request to replica `index` as Slack does (an answer in the ack is shown); its HTTP status."""
        async with self.http.post(f"http://127.0.0.1:{self.ports[index]}/slack/events", data=body, headers=headers) as response:
            self.fake.receive_ack(body, response.status, await response.text())
            return response.status

    # ---- what the fake Slack received

    def texts(self) -> list[str]:
        """Every non-ephemeral message text the bot posted, as first sent, unescaped."""
        return [unescape(m.get("text") or "") for m in self.fake.messages if not m.get("ephemeral")]

    def count_of(self, pattern) -> Counter:
        """How many times each match of `pattern` (a compiled regex with one group) was posted."""
        return Counter(match for text in self.texts() for match in pattern.findall(text))
