"""`onevoice run` with Matrix (bot/run.py): settings that cannot work are refused at start with what to set, in the
team's words; a working homeserver gets an adapter, a readiness probe and a sync loop that stops on shutdown."""

from contextlib import AsyncExitStack

import pytest

from bot.app import OneVoice
from bot.outbox.scheduler import NudgeScheduler
from bot.readiness import Readiness
from bot.run import Refused, _start_matrix, _Started
from config.settings import Settings
from tests.bot import matrix_world
from tests.bot.matrix_world import matrix_team
from tests.conftest import seeded

fake = matrix_world.fake


async def start(tmp_path, **environment) -> tuple[str | None, str | None]:
    """Start Matrix as `onevoice run` does, then shut it down: (the mode it reported, the refusal it gave)."""
    settings = Settings(ONEVOICE_DATABASE_URL=seeded(f"sqlite:///{tmp_path / 'start.db'}"), **environment)
    bot = OneVoice(settings, config=matrix_team())
    try:
        async with AsyncExitStack() as stack:
            started = _Started(bot, settings, NudgeScheduler(bot), stack, Readiness(bot.engine))
            try:
                mode = await _start_matrix(started)
            except Refused as refusal:
                return None, str(refusal)
            ready, found = await started.readiness.check()
            assert ready and found["matrix"] == "ok", found
            assert "matrix" in bot.deliverers
            return mode, None
    finally:
        bot.engine.dispose()


async def test_a_working_homeserver_is_synced_and_ready(fake, tmp_path):
    mode, refusal = await start(tmp_path, MATRIX_HOMESERVER=fake.url, MATRIX_USER_ID=fake.user_id, MATRIX_ACCESS_TOKEN="token")
    assert (mode, refusal) == ("Matrix (sync)", None)
    assert fake.syncs[0] is None  # the first start takes the present as its start


async def test_a_homeserver_without_the_bots_credentials_is_refused_with_what_to_set(fake, tmp_path):
    _mode, refusal = await start(tmp_path, MATRIX_HOMESERVER=fake.url)
    assert "MATRIX_USER_ID" in refusal and "MATRIX_ACCESS_TOKEN" in refusal


async def test_a_token_of_another_user_is_refused(fake, tmp_path):
    _mode, refusal = await start(tmp_path, MATRIX_HOMESERVER=fake.url, MATRIX_USER_ID="@someone:test", MATRIX_ACCESS_TOKEN="token")
    assert "belongs to @onevoice:test" in refusal and "@someone:test" in refusal


async def test_a_refused_token_is_said_with_the_servers_reason(fake, tmp_path):
    fake.refuse["whoami"] = [(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})]
    _mode, refusal = await start(tmp_path, MATRIX_HOMESERVER=fake.url, MATRIX_USER_ID=fake.user_id, MATRIX_ACCESS_TOKEN="stale")
    assert "refused MATRIX_ACCESS_TOKEN" in refusal and "M_UNKNOWN_TOKEN" in refusal


async def test_an_unreachable_homeserver_is_refused_naming_the_setting(tmp_path):
    from tests.e2e.run_process import free_port

    url = f"http://127.0.0.1:{free_port()}"
    _mode, refusal = await start(tmp_path, MATRIX_HOMESERVER=url, MATRIX_USER_ID="@onevoice:test", MATRIX_ACCESS_TOKEN="token")
    assert "MATRIX_HOMESERVER" in refusal and url in refusal


async def test_readiness_fails_while_the_homeserver_refuses_the_bot(fake, tmp_path):
    from bot.matrix.client import alive, make_client

    client = make_client(fake.url, fake.user_id)
    client.access_token = "token"
    try:
        await alive(client)
        fake.refuse["whoami"] = [(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Token revoked"})]
        with pytest.raises(Exception, match="M_UNKNOWN_TOKEN"):
            await alive(client)
    finally:
        await client.close()
