"""`/readyz` on the real `onevoice run`'s internal listener: ready only when the database answers and each platform is
reachable."""

import os
import socket
import subprocess
import sys

from bot.readiness import Readiness
from storage.db import make_engine
from tests.e2e import slack_process, telegram_process
from tests.e2e.run_process import free_port

slack_bot = slack_process.slack_bot
start_telegram_bot = telegram_process.start_telegram_bot


async def probe(url: str) -> tuple[int, dict]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{url}/readyz") as response:
        return response.status, await response.json()


async def test_slack_unreachable_makes_the_replica_unready_but_alive(slack_bot):
    slack_bot.fake.fail_next("auth.test", 500, times=100)
    status, body = await probe(slack_bot.admin_url)
    assert status == 503
    assert body["failed"] == ["slack"] and body["database"] == "ok"
    async with slack_bot.http.get(f"{slack_bot.url}/healthz") as alive:  # liveness is not readiness: do not restart it
        assert alive.status == 200


async def test_ready_checks_are_cached_so_probes_do_not_hammer_slack(slack_bot):
    for _ in range(5):
        status, body = await probe(slack_bot.admin_url)
        assert status == 200 and body["slack"] == "ok" and body["database"] == "ok"
    assert len(slack_bot.calls("auth.test")) <= 2  # at most once by Bolt at start and once by the first probe


async def test_telegram_unreachable_makes_the_replica_unready(start_telegram_bot):
    bot = await start_telegram_bot("webhook")
    bot.fake.fail_next("getMe", 500, times=100)
    status, body = await probe(bot.admin_url)
    assert status == 503 and body["failed"] == ["telegram"]


async def test_no_database_means_not_ready():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/nothing", connect_args={"connect_timeout": 1})  # nobody listens
    readiness = Readiness(engine)
    readiness.platforms["slack"] = _reachable
    ready, body = await readiness.check()
    assert not ready and body["failed"] == ["database"] and body["slack"] == "ok"
    readiness = Readiness(make_engine("sqlite://"))
    readiness.stopping = True  # SIGTERM: unready at once, whatever the checks would say
    assert await readiness.check() == (False, {"ok": False, "shutting_down": True})


async def _reachable() -> dict:
    return {"ok": True}


def test_an_internal_port_in_use_is_refused_at_start_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            **os.environ,
            "ONEVOICE_DATABASE_URL": f"sqlite:///{tmp_path / 'onevoice.db'}",
            "SLACK_BOT_TOKEN": "xoxb-never-used",
            "SLACK_SIGNING_SECRET": "never-used",
            "ONEVOICE_HTTP_PORT": str(free_port()),
            "ONEVOICE_ADMIN_PORT": str(port),
            "ONEVOICE_DEMO_TEAM": "1",  # this test is about the port: the shipped team is fine here
        }
        done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr
    expected = f"onevoice: cannot listen on 127.0.0.1:{port} (Address already in use); choose another with ONEVOICE_ADMIN_PORT"
    assert done.stderr.startswith(expected) and "Traceback" not in done.stderr, done.stderr
