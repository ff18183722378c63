"""What the Slack and Telegram end-to-end fixtures share: one `onevoice run` process, its log, its database, its fake."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.e2e.forked_run import Forked, spawn
from tests.templates import migrated_sqlite


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_start(request: Any) -> bool:
    """Whether the test is marked `fresh_start`: its bot a new interpreter, as an operator starts it, not a fork."""
    return request.node.get_closest_marker("fresh_start") is not None


CHAINED = ("The above exception was the direct cause", "During handling of the above exception")


def unexpected_tracebacks(log: str, allowed: list[str]) -> list[str]:
    """Tracebacks in the log that do not follow one of the allowed log lines."""
    lines, found = log.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            before = lines[i - 1] if i else ""
            if i > 1 and lines[i - 2].startswith(CHAINED):
                continue  # the cause of an exception already judged by the traceback above it
            if not any(a in before for a in allowed):
                found.append(before)
    return found


class RunningBot:
    """A started `onevoice run` (subclasses start it) and the fake platform it talks to."""

    fake: Any
    database: Path
    log: Path
    process: subprocess.Popen | Forked | None = None
    # A fresh bot is `python -m bot.cli run` in a new interpreter, as an operator starts it; else the process is forked
    # from one that has imported the bot already (tests/e2e/forked_run.py), the same `main` in the same environment.
    fresh = False

    def __init__(self) -> None:
        self.allowed_tracebacks: list[str] = []  # log lines after which a traceback is expected (and reported)

    def pick_ports(self) -> None:
        """Choose free ports for the public and the internal listener."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_url = f"http://127.0.0.1:{free_port()}"  # /readyz and /metrics, on the internal listener

    async def launch(self, env: Callable[[], dict], folder: Path, timeout: float) -> None:
        """Start `onevoice run` and wait for its ready line. A port is picked free and bound later, so another process may
        take it in between: then the ports are picked again (three tries), the run's refusal being the proof. A new SQLite
        database is the migrated copy the process would otherwise make itself, a second slower (the pollers of
        tests/e2e/test_pollers.py start on an empty one, and test_first_hour.py's commands)."""
        if not self.database.exists() and env().get("ONEVOICE_DATABASE_URL") == f"sqlite:///{self.database}":
            migrated_sqlite(self.database).dispose()
        for _try in range(3):
            self.log.write_text("")
            await asyncio.to_thread(self.start_process, env(), folder)  # the fakes answer meanwhile (a first fork starts the server)
            await self.wait_for(self._up_or_gone, timeout, "the 'OneVoice running' line")
            if "OneVoice running" in self.output() or "Address already in use" not in self.output():
                break
            self.pick_ports()
        assert "OneVoice running" in self.output(), f"onevoice run did not start:\n{self.output()}"

    def start_process(self, env: dict, folder: Path) -> None:
        """Start `onevoice run` in `folder` with exactly `env`, its output appended to the log (a file, not a pipe: an
        unread pipe would stall the process): forked, or a new interpreter if the bot is `fresh`."""
        if not self.fresh:
            self.process = spawn(["run"], env, folder, self.log)
            return
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "run"], stdout=out, stderr=subprocess.STDOUT, cwd=folder, env=env
            )

    def _up_or_gone(self) -> bool:
        return "OneVoice running" in self.output() or (self.process is not None and self.process.poll() is not None)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop_process(self) -> int | None:
        """SIGTERM and wait (as a restart or a shutdown does); the log must hold no unexpected traceback."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.to_thread(self.process.wait, 15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"onevoice run ignored SIGTERM:\n{self.output()[-3000:]}") from None
        assert not unexpected_tracebacks(self.output(), self.allowed_tracebacks), self.output()[-5000:]
        return code

    async def stop(self) -> int | None:
        """Stop the process (see stop_process), then the fake, which must have met no bug of its own."""
        code = await self.stop_process()
        await self.fake.stop()
        assert not self.fake.internal_errors, self.fake.internal_errors
        return code

    def recent(self) -> str:
        """The last things the fake saw, for a timeout's message."""
        return ""

    async def wait_for(self, condition: Callable[[], Any], timeout: float = 10, what: str = "") -> Any:
        """Poll until condition() is truthy (and return it); fail with the process log after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what or condition}\n--- last messages:\n{self.recent()}\n--- log:\n"
                    f"{self.output()[-3000:]}"
                )
            await asyncio.sleep(0.05)

    def query(self, sql: str, *args) -> list[tuple]:
        """Read the bot's SQLite database."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, args).fetchall()

    def calls(self, method: str) -> list[dict]:
        return [params for name, params in self.fake.calls if name == method]

    def pending_effects(self) -> int:
        return self.query("SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0]


@asynccontextmanager
async def serving(bot: RunningBot) -> AsyncIterator[Any]:
    """The bot started, for the block; then stopped (its log checked for tracebacks), whatever happened in it."""
    try:
        yield await bot.start()  # type: ignore[attr-defined]
    finally:
        await bot.stop()  # type: ignore[attr-defined]
