"""The Slack adapter's pace: by default one message a second to one channel (Slack's limit), ONEVOICE_SLACK_PACE_SECONDS
sets that gap, and a message to another channel never waits for it. Read on a clock that moves only when the adapter
waits, so what is checked is the wait itself, not how fast this machine is."""

import pytest

from bot.slack import delivery
from bot.slack.delivery import SlackAdapter, web_client
from config.settings import Settings
from handlers.text.markup import text
from tests.fakes.slack_api import FakeSlack


class StillClock:
    """Stands for the delivery module's `time` and `asyncio`: the time moves only by the waits, which are noted."""

    def __init__(self):
        self.now, self.waits = 100.0, []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
async def fake():
    async with FakeSlack() as slack:
        yield slack


@pytest.mark.parametrize(("pace", "gap"), [(None, 1.0), (0.3, 0.3), (0, None)])
async def test_messages_to_one_channel_keep_the_pace_and_another_channel_does_not_wait(fake, monkeypatch, pace, gap):
    clock = StillClock()
    monkeypatch.setattr(delivery, "time", clock)
    monkeypatch.setattr(delivery, "asyncio", clock)
    adapter = SlackAdapter(web_client(fake.token, fake.api_url), pace=pace)
    for to in ("U0ALICE", "U0ALICE", "U0BOB", "U0ALICE"):
        await adapter.dm(to, text(f"to {to}"))
    sent = [params["channel"] for name, params in fake.calls if name == "chat.postMessage"]
    assert sent == ["U0ALICE", "U0ALICE", "U0BOB", "U0ALICE"]  # each posted once, in order
    assert clock.waits == ([gap, gap] if gap else [])  # Alice's second and third wait the pace; Bob's waits nothing


def test_the_pace_is_a_setting_whose_default_is_slacks_limit(monkeypatch):
    monkeypatch.delenv("ONEVOICE_SLACK_PACE_SECONDS", raising=False)
    assert Settings().slack_pace_seconds == 1.0
    monkeypatch.setenv("ONEVOICE_SLACK_PACE_SECONDS", "0.05")
    assert Settings().slack_pace_seconds == 0.05
