"""ONEVOICE_SLACK_PACE_SECONDS: the least time between two messages the bot posts to one Slack channel."""

import time

from bot.slack.delivery import PACE, SlackAdapter, web_client
from config.settings import Settings
from handlers.core.effects import Answer
from handlers.text.markup import text
from tests.fakes.slack_api import FakeSlack


def test_the_pace_is_one_second_unless_set(monkeypatch):
    monkeypatch.delenv("ONEVOICE_SLACK_PACE_SECONDS", raising=False)
    assert Settings().slack_pace_seconds == PACE == 1.0  # Slack's about one message a second per channel
    monkeypatch.setenv("ONEVOICE_SLACK_PACE_SECONDS", "0.25")
    assert Settings().slack_pace_seconds == 0.25


async def test_posts_to_one_channel_are_the_pace_apart():
    async with FakeSlack() as fake:
        general = fake.add_channel("general", members=[fake.bot_user_id, "U0ALICE"])["id"]
        client, posts = web_client(fake.token, fake.api_url), []
        sending = client.api_call

        async def timed(method, **kwargs):  # when each call leaves the bot (the fake sees it a varying moment later)
            posts.append(time.monotonic())
            return await sending(method, **kwargs)

        client.api_call = timed
        adapter = SlackAdapter(client, pace=0.5)
        for n in range(3):
            await adapter.answer(Answer(text(f"Answer {n}"), to="U0ALICE", private=False, channel=general))
        assert [m["text"] for m in fake.messages_in(general)] == ["Answer 0", "Answer 1", "Answer 2"]
        assert all(later - earlier >= 0.5 for earlier, later in zip(posts, posts[1:], strict=False)), posts
