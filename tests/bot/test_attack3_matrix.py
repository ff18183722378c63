"""Attack 3 on the Matrix intake: hostile events from the timeline must neither stall the sync loop nor change what a
command means."""

import pytest

from bot.matrix import sync as matrix_sync
from tests.bot.matrix_homeserver import FakeHomeserver
from tests.bot.matrix_world import CRISIS, STRANGER, MatrixWorld


@pytest.fixture
async def fake():
    async with FakeHomeserver() as fake:
        yield fake


@pytest.fixture
async def world(fake, database):
    world = await MatrixWorld(fake, database).start()
    yield world
    await world.stop()
    world.bot.engine.dispose()


def answers(fake: FakeHomeserver, room: str = CRISIS) -> list[str]:
    return [c["body"] for c in fake.said(room) if c.get("msgtype") == "m.notice"]


@pytest.mark.parametrize(
    "odd",
    [
        {"m.relates_to": "junk"},
        {"m.relates_to": ["m.replace"]},
        {"m.relates_to": {"m.in_reply_to": "x"}},
        {"format": ["org.matrix.custom.html"], "formatted_body": {"a": 1}},
    ],
)
async def test_a_command_whose_client_put_odd_json_in_a_field_is_still_answered(world, fake, monkeypatch, odd):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)  # before the fix: three failing tries, then skipped
    fake.push(join={CRISIS: [fake.message(STRANGER, "!crisis list", **odd), fake.message("@alice:test", "!crisis list", **odd)]})
    await world.until(lambda: len(answers(fake)) == 2, what="the refusal and the answer", timeout=5)
    refusal, answer = answers(fake)
    assert STRANGER in refusal and STRANGER not in answer
