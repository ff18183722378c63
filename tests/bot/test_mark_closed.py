"""Closing an incident marks its room closed: the Slack channel's topic says so, after a retry if Slack is down."""

from datetime import timedelta

from tests.bot.test_delivery_faults import workspace  # noqa: F401  (the fixture)


async def test_closing_marks_the_slack_room_closed_after_an_outage(workspace):  # noqa: F811
    room = await workspace.declare()
    workspace.say("U0ALICE", "resolve Stop-sale complete", room)
    workspace.say("U0ALICE", "close --force drill of the recipe", room)
    workspace.fake.fail_next("conversations.setTopic", 500, times=2)  # the call and the client's own retry
    await workspace.bot.deliver()
    assert workspace.fake.channels[room]["topic"] != "#1 Battery overheating (closed)"
    workspace.clock.advance(timedelta(minutes=1))
    await workspace.bot.deliver()
    assert workspace.fake.channels[room]["topic"] == "#1 Battery overheating (closed)"
