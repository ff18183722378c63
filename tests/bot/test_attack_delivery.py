"""Attacks on delivery (issue 14): a notice that itself cannot go out is not announced again (no loop), and an edit
never overtakes the post it edits, whatever the lanes let through."""

from datetime import timedelta

import pytest

from bot.web.signals import _receive
from handlers.signals.intake import SignalIn
from tests.bot.test_delivery_faults import Workspace

LATER = timedelta(hours=2)


@pytest.fixture
def slack(slack_with_triage):
    return slack_with_triage


def posts(space: Workspace) -> int:
    return sum(1 for name, _params in space.fake.calls if name == "chat.postMessage")


async def test_a_room_that_refuses_everything_gets_one_notice_try_per_failure_and_then_silence(slack):
    room = await slack.declare()
    slack.fake.fail_next("chat.postMessage", 400, times=10_000)  # the channel refuses every post (archived, say)
    slack.say("U0ALICE", "update Stores are pulling the batch", room)
    slack.say("U0ALICE", "update Refunds start tomorrow", room)
    before = posts(slack)
    await slack.bot.deliver()
    # Two updates refused at once, then one notice for each, refused too and only logged: four tries, no fifth.
    assert posts(slack) - before == 4
    for _pass in range(5):
        slack.clock.advance(LATER)
        assert await slack.bot.deliver() == 0
    assert posts(slack) - before == 4
    slack.fake._faults.clear()  # the room works again: nothing given up comes back on its own, nothing is stuck
    slack.say("U0ALICE", "update Back to normal", room)
    await slack.bot.deliver()
    assert [m["text"] for m in slack.fake.messages_in(room) if "Back to normal" in (m["text"] or "")]


async def test_an_edit_waits_for_the_post_it_edits_even_when_the_post_is_retried(slack):
    slack.fake.fail_next("chat.postMessage", 500, times=2)  # the triage post fails now (and its in-place retry)
    alert = SignalIn(source="monitor", title="Checkout errors", volume=10)
    _receive(slack.bot, alert)
    await slack.bot.deliver()
    _receive(slack.bot, alert)  # the alert again: an edit of a message not yet posted
    await slack.bot.deliver()
    assert not slack.fake.messages_in("C0TRIAGE") and not [n for n, _p in slack.fake.calls if n == "chat.update"]
    slack.clock.advance(LATER)
    await slack.bot.deliver()
    [posted] = slack.fake.messages_in("C0TRIAGE")
    assert "seen 2 times" in slack.fake.current("C0TRIAGE", posted["ts"])["text"]  # posted, then edited, in that order
