"""Telegram long polling allows one consumer: a second `onevoice run` polling for the same database refuses to start."""

import asyncio
import os
import signal
import time

import pytest
from sqlalchemy import text

from tests.conftest import POSTGRES_URL, postgres_engine_or_skip
from tests.e2e.forked_run import spawn
from tests.e2e.run_process import free_port
from tests.e2e.telegram_process import CLOCK_START, ROOT, TelegramBot

REFUSAL = "another OneVoice is already polling Telegram for this database"


class Poller(TelegramBot):
    """The Telegram bot by long polling, on any database URL."""

    def __init__(self, folder, database_url: str):
        super().__init__(folder, "polling")
        self.database_url = database_url

    def environment(self, port: int, webhook_secret: str | None = None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TELEGRAM_"))}
        env.update(
            ONEVOICE_CONFIG=str(self.config),
            ONEVOICE_DATABASE_URL=self.database_url,
            TELEGRAM_BOT_TOKEN=self.fake.token,
            ONEVOICE_TELEGRAM_API_URL=self.fake.api_base,
            ONEVOICE_HTTP_PORT=str(port),
            ONEVOICE_ADMIN_PORT="0",
            ONEVOICE_HTTP_HOST="127.0.0.1",
            ONEVOICE_CLOCK_START=CLOCK_START,
            PYTHONPATH=str(ROOT),
        )
        if webhook_secret:
            env["TELEGRAM_WEBHOOK_SECRET"] = webhook_secret
        return env

    async def start(self, timeout: float = 90) -> TelegramBot:  # a guard: a loaded machine starts Python slowly
        await self.fake.start()
        self.log.write_text("")
        self.process = spawn(["run"], self.environment(self.port), self.folder, self.log)  # forked: see tests/e2e/forked_run.py
        await self.wait_for(lambda: "OneVoice running" in self.output() or self.process.poll() is not None, timeout, "the start")
        assert "Telegram (polling)" in self.output(), self.output()
        return self

    def another(self, webhook_secret: str | None = None) -> tuple[int | None, str]:
        """Start one more `onevoice run` beside it: (its exit code, None if it kept running; what it printed)."""
        log = self.folder / f"another-{time.monotonic_ns()}.log"
        log.write_text("")
        process = spawn(["run"], self.environment(free_port(), webhook_secret), self.folder, log)
        deadline = time.monotonic() + 30
        while process.poll() is None and "OneVoice running" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        code = process.poll()
        if code is None:
            process.send_signal(signal.SIGTERM)
            process.wait(15)
        return code, log.read_text()


@pytest.fixture
def postgres_url():
    base, engine, schema = postgres_engine_or_skip()
    engine.dispose()
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with base.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        connection.commit()
    base.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_second_poller_on_the_same_database_is_refused(tmp_path, database, request):
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else f"sqlite:///{tmp_path / 'onevoice.db'}"
    first = Poller(tmp_path, url)
    try:
        await first.start()
        code, said = await asyncio.to_thread(first.another)  # the fake answers from this loop meanwhile
        assert code not in (0, None), said
        assert REFUSAL in said and "set TELEGRAM_WEBHOOK_SECRET" in said
        code, said = await asyncio.to_thread(first.another, "replica-secret")  # a webhook replica beside the poller is fine
        assert code is None and "Telegram (webhook)" in said, said
        assert first.process.poll() is None  # the poller kept polling throughout
    finally:
        await first.stop()
