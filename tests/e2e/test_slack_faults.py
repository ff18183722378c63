"""Slack answering 429 and 500 to 30% of Web API calls: every effect arrives exactly once in the end, nothing is left over."""

from collections import Counter

import pytest

from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, BOB, CAROL, buttons, unescape

slack_bot = slack_process.slack_bot  # the fixture

LINE = "We are sorry & <b>careful</b> 😀 电池 Next update at 11:00."


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """The outbox retries a 5xx after about 0.2 s (not 2 s) and posts at a tenth of Slack's pace; Retry-After is waited in full."""
    # The defaults have tests of their own: tests/bot/test_slack_pace.py and tests/bot/test_delivery_first_wait.py.
    monkeypatch.setenv("ONEVOICE_DELIVERY_FIRST_WAIT_SECONDS", "0.2")
    monkeypatch.setenv(slack_process.PACE_SETTING, slack_process.QUICK_PACE)


def duplicates(bot) -> dict[str, list[str]]:
    """Texts that appear more than once in one channel (ephemeral answers aside)."""
    found = {}
    for channel in {m["channel"] for m in bot.fake.messages}:
        counts = Counter(m["text"] for m in bot.fake.messages_in(channel) if not m["ephemeral"])
        if twice := [text[:80] for text, n in counts.items() if n > 1]:
            found[channel] = twice
    return found


async def test_every_effect_is_delivered_exactly_once_despite_30_percent_faults_and_retry_after_is_honoured(slack_bot):
    fake = slack_bot.fake
    fake.seed, fake.fail_ratio = 20260302, 0.3

    await slack_bot.command(ALICE, "declare product-quality sev2 Battery overheating")
    room = await slack_bot.room(timeout=60)
    await slack_bot.wait_for(lambda: room["pins"], 60, "the card pinned")
    await slack_bot.command(CAROL, f"draft {LINE}", room["id"])
    await slack_bot.wait_for(lambda: slack_bot.query("SELECT count(*) FROM statement") == [(1,)], 10, "the draft")
    await slack_bot.command(BOB, "approve v1", room["id"])
    bobs = "SELECT count(*) FROM approval"
    await slack_bot.wait_for(lambda: slack_bot.query(bobs) == [(1,)], 10, "Bob's approval")  # one at a time (see test_slack.py)
    await slack_bot.command(ALICE, "approve v1", room["id"])
    approved = "SELECT state FROM statement WHERE version = 1"
    await slack_bot.wait_for(lambda: slack_bot.query(approved) == [("approved",)], 10, "v1 approved")
    await slack_bot.command(CAROL, "publish newsroom", room["id"])
    sent = "SELECT count(*) FROM publication WHERE target = 'newsroom' AND state = 'sent'"
    done = lambda: slack_bot.query(sent) == [(1,)] and slack_bot.pending_effects() == 0  # noqa: E731
    await slack_bot.wait_for(done, 60, "the publication sent and the outbox drained")
    print(f"{len(fake.calls)} Web API calls, {fake._ratio_faults} of them answered 429 or 500 (seed {fake.seed})")

    assert fake._ratio_faults >= 5  # the faults really happened
    assert {state for (state,) in slack_bot.query("SELECT state FROM outbox")} == {"sent"}  # none pending, none given up
    assert [c["name"] for c in fake.channels.values() if c["name"].startswith("crisis-")] == ["crisis-20260302-battery-overheating"]
    pins = fake.channels[room["id"]]["pins"]
    assert len(pins) == len(set(pins)) == 2  # the card and the approved line, each pinned once
    assert "Approved line of #1 — v1" in fake.current(room["id"], pins[1])["text"]
    news = fake.messages_in("C0NEWS")
    assert [unescape(m["text"]) for m in news] == [LINE] and news[0]["mrkdwn"] is False
    assert not duplicates(slack_bot)
    briefs = Counter(t.split(" in incident")[0] for user in fake.ims for t in slack_bot.texts(user) if t.startswith("You are "))
    assert set(briefs.values()) == {1} and len(briefs) == 7  # one duty DM per role given at declare
    requests = [u for u in fake.ims if any(t.startswith("📝 *Draft v1*") for t in slack_bot.texts(u))]
    assert sorted(requests) == sorted([ALICE, BOB])  # the approvers asked, once each (no duplicates above)
    assert {ALICE, BOB, CAROL} <= fake.channels[room["id"]]["members"]
    assert slack_bot.query("SELECT phase, severity FROM incident") == [("detected", "sev2")]

    # a 429 with Retry-After on chat.postMessage: no retry comes sooner, and the message is posted once
    fake.fail_ratio = 0
    fake.fail_next("chat.postMessage", 429, retry_after=2, times=2)  # the client's own retry is refused too
    await slack_bot.command(ALICE, "task Call the supplier in 30m", room["id"])  # answered ephemerally; the room post is in the outbox
    await slack_bot.message(room["id"], "Call the supplier", 15)
    calls = zip(fake.calls, fake.call_times, strict=True)
    tries = [t for (name, params), t in calls if name == "chat.postMessage" and "Call the supplier" in params.get("text", "")]
    assert len(tries) == 3  # refused, refused, delivered
    assert tries[1] - tries[0] >= 2 and tries[2] - tries[1] >= 2, [round(b - a, 2) for a, b in zip(tries, tries[1:], strict=False)]
    assert sum("Call the supplier" in t for t in slack_bot.texts(room["id"])) == 1


async def test_answers_survive_two_server_errors_and_reach_a_channel_the_bot_is_not_in(slack_bot):
    fake = slack_bot.fake
    lobby = fake.add_channel("lobby", channel_id="C0LOBBY", members=[ALICE])["id"]  # the bot was never invited here
    await slack_bot.command(ALICE, "help", lobby)
    assert (await slack_bot.message(lobby, "/crisis"))["ephemeral"]  # the answer rode in the ack

    fake.fail_next("response_url", 500, times=2)
    await slack_bot.command(ALICE, "declare", lobby)  # no text: the form, which keeps where it was asked from
    await slack_bot.wait_for(lambda: fake.views, what="the declare form")
    values = {"playbook": {"playbook": "outage"}, "severity": {"severity": "sev2"}, "title": {"title": "Checkout down"}}
    await slack_bot.submit(ALICE, "ov_declare", values)
    declared = await slack_bot.message(lobby, "Declared #1", 15)  # answered through Slack's response_url, after two 500s
    assert declared["user"] in (ALICE, None) and [status for _name, _body, status in fake.response_log] == [500, 500, 200]

    room = await slack_bot.room("checkout-down")
    await slack_bot.wait_for(lambda: room["pins"], 15, "the card pinned")
    fake.fail_next("response_url", 503, times=2)
    brief = await slack_bot.message(ALICE, "You are *Incident commander*")
    ack = next(b for b in buttons(brief) if b["text"]["text"] == "Accept the role")
    await slack_bot.click(ALICE, fake.ims[ALICE], brief, ack)
    answer = await slack_bot.message(ALICE, "accepted", 15)
    assert answer["via"] == "response_url" and [s for _n, _b, s in fake.response_log][3:] == [503, 503, 200]
    assert not [m for m in fake.messages_in(lobby) if m.get("via") is None]  # nothing there went through the Web API
