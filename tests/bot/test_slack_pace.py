"""The Slack adapter's pace against the fake Slack: by default at most one message a second reaches one channel (Slack's
limit), and ONEVOICE_SLACK_PACE_SECONDS sets that gap."""

import pytest

from bot.slack.delivery import SlackAdapter, web_client
from config.settings import Settings
from handlers.text.markup import text
from tests.fakes.slack_api import FakeSlack


@pytest.fixture
async def fake():
    async with FakeSlack() as slack:
        yield slack


def posts(fake: FakeSlack) -> list[tuple[str, float]]:
    """(channel, when the fake received it) of every chat.postMessage."""
    calls = zip(fake.calls, fake.call_times, strict=True)
    return [(params["channel"], at) for (name, params), at in calls if name == "chat.postMessage"]


@pytest.mark.parametrize("pace", [None, 0.3])
async def test_messages_to_one_channel_keep_the_pace(fake, pace):
    adapter = SlackAdapter(web_client(fake.token, fake.api_url), pace=pace)
    for to in ("U0ALICE", "U0ALICE", "U0BOB", "U0ALICE"):
        await adapter.dm(to, text(f"to {to}"))
    sent = posts(fake)
    assert [channel for channel, _at in sent] == ["U0ALICE", "U0ALICE", "U0BOB", "U0ALICE"]
    alice = [at for channel, at in sent if channel == "U0ALICE"]
    # The default is Slack's one message a second per channel; the gap is kept between sends, and measured here where the
    # fake received them, so a tenth is left for how long each send took to arrive.
    gap = 0.9 * (1.0 if pace is None else pace)
    assert alice[1] - alice[0] >= gap and alice[2] - alice[1] >= gap  # Slack sees no burst in Alice's DM


def test_the_pace_is_a_setting_whose_default_is_slacks_limit(monkeypatch):
    monkeypatch.delenv("ONEVOICE_SLACK_PACE_SECONDS", raising=False)
    assert Settings().slack_pace_seconds == 1.0
    monkeypatch.setenv("ONEVOICE_SLACK_PACE_SECONDS", "0.05")
    assert Settings().slack_pace_seconds == 0.05
