"""Attack on retention (issue 14): pruning must never delete what is still needed. A triage message is edited for as
long as its alert keeps repeating and when it is declared: the delivered post that edit refers to must outlive it."""

from datetime import timedelta

import pytest

from bot.outbox.scheduler import NudgeScheduler
from bot.web.signals import _receive
from handlers.signals.intake import SignalIn
from tests.bot.test_delivery_faults import Workspace


@pytest.fixture
def triage(slack_with_triage):
    return slack_with_triage


def triage_text(space: Workspace) -> str:
    [posted] = [m for m in space.fake.messages_in("C0TRIAGE") if "Checkout errors" in (m["text"] or "")]
    return space.fake.current("C0TRIAGE", posted["ts"])["text"]


async def test_an_alert_repeating_for_weeks_keeps_its_triage_message_current_after_pruning(triage):
    alert = SignalIn(source="monitor", title="Checkout errors", volume=10)
    _receive(triage.bot, alert)
    await triage.bot.deliver()
    for _hour in range(0, 31 * 24, 5):  # the same alert every five hours, for a month (inside the 6 h dedup window)
        triage.clock.advance(timedelta(hours=5))
        _receive(triage.bot, alert)
        await triage.bot.deliver()
    seen = triage_text(triage)
    assert "seen 150 times" in seen, seen
    await NudgeScheduler(triage.bot).prune()  # the scheduler's pass: rows delivered more than 30 days ago go
    triage.clock.advance(timedelta(hours=5))
    _receive(triage.bot, alert)
    await triage.bot.deliver()
    assert "seen 151 times" in triage_text(triage)  # the message the team watches still counts


async def test_an_alert_declared_after_the_retention_age_still_updates_its_triage_message(triage):
    _receive(triage.bot, SignalIn(source="monitor", title="Checkout errors", volume=10))
    await triage.bot.deliver()
    triage.clock.advance(timedelta(days=31))
    await NudgeScheduler(triage.bot).prune()
    triage.say("U0ALICE", "declare --signal 1")
    await triage.bot.deliver()
    assert "#1" in triage_text(triage)  # the triage message says where the alert went (no second Declare)
