"""Slack end to end: the real `onevoice run` process, the fake Slack Web API, signed requests shaped like Slack's."""

import asyncio
import signal
import time

import pytest
import pytest_asyncio

from tests.e2e import slack_process
from tests.e2e.slack_process import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    GENERAL,
    PACE_SETTING,
    QUICK_PACE,
    button_labelled,
    buttons,
    quickly_paced,
    unescape,
)

start_slack_bot = slack_process.start_slack_bot  # the fixture: bots of their own (a team file of their own, a SIGTERM)

LINE = "We are sorry for the worry & <b>care</b> 😀 电池安全 Next update at 11:00."
FAST_NUDGES = "severities:\n  sev2: {first_statement: 2h, update_every: 1h, approval_nudge: 4s, review_within: 5d}\n"


# One process serves the tests marked `shared` (a start and a stop cost seconds on a loaded machine): each declares an
# incident of its own title and asserts on its own incident, its own room and what reached the fake since it began.
shared = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def started_slack_bot(tmp_path_factory):
    """The starter team's bot on the fake Slack, over HTTP, for the whole module."""
    async with quickly_paced(tmp_path_factory.mktemp("slack")) as bot:
        yield bot


@pytest_asyncio.fixture(loop_scope="module")
async def slack_bot(started_slack_bot):
    """The module's bot once every effect of the tests before is delivered, marked where this test begins."""
    bot = started_slack_bot
    await bot.wait_for(lambda: bot.pending_effects() == 0, 30, "the outbox drained before the test")
    bot.mark = len(bot.fake.messages)
    return bot


def new_in(bot, channel: str) -> list[dict]:
    """The messages in a channel (or a user's DM) posted since the test began."""
    fresh = {id(m) for m in bot.fake.messages[bot.mark :]}
    return [m for m in bot.fake.messages_in(channel) if id(m) in fresh]


def new_texts(bot, channel: str) -> list[str]:
    """What users read now of the messages posted in a channel (or a user's DM) since the test began."""
    return [unescape(bot.fake.current(m["channel"], m["ts"]).get("text") or "") for m in new_in(bot, channel)]


async def said(bot, channel: str, contains: str, timeout: float = 10) -> dict:
    """As SlackBot.message, among the messages posted since the test began only."""

    def found():
        for m in reversed(new_in(bot, channel)):
            if contains in unescape(bot.fake.current(m["channel"], m["ts"]).get("text") or ""):
                shown = {k: m.get(k) for k in ("ephemeral", "mrkdwn", "user", "via")}
                return bot.fake.current(m["channel"], m["ts"]) | shown
        return None

    return await bot.wait_for(found, timeout, f"a new message containing {contains!r} in {channel}")


def incident_of(bot, title: str) -> int:
    """The number of the incident declared with this title."""
    return bot.query("SELECT id FROM incident WHERE title = ?", title)[0][0]


def approvals(bot, incident: int) -> int:
    return bot.query("SELECT count(*) FROM approval JOIN statement ON statement.id = statement_id WHERE incident_id = ?", incident)[0][0]


@shared
async def test_declare_opens_the_room_the_ack_button_edits_the_card_and_user_text_is_escaped(slack_bot):
    channels = len(slack_bot.crisis_channels())
    _status, _body, seconds = await slack_bot.command(ALICE, "declare product-quality sev2 Battery overheating")
    print(f"/crisis declare acknowledged in {seconds * 1000:.0f} ms")
    room = await slack_bot.room("battery-overheating")
    assert room["name"] == "crisis-20260302-battery-overheating"
    n = incident_of(slack_bot, "Battery overheating")  # recorded before its channel was created
    await slack_bot.wait_for(lambda: room["pins"], what="the card pinned")
    card = slack_bot.fake.current(room["id"], room["pins"][0])
    assert f"#{n} Battery overheating" in card["text"] and "sev2" in card["text"]
    assert room["topic"] == f"#{n} Battery overheating"
    await slack_bot.wait_for(lambda: {ALICE, BOB, CAROL, DAVE, ERIN} <= room["members"], what="the responders invited")
    assert "crisis-20260302-battery-overheating" in (await said(slack_bot, GENERAL, f"Declared #{n}"))["text"]

    brief = await said(slack_bot, ALICE, "You are *Incident commander*")
    ack = next(b for b in buttons(brief) if b["text"]["text"] == "Accept the role")
    await slack_bot.click(ALICE, slack_bot.fake.ims[ALICE], brief, ack)
    edited = lambda: "Incident commander: Alice Chen ✓" in slack_bot.fake.current(room["id"], room["pins"][0])["text"]  # noqa: E731
    await slack_bot.wait_for(edited, what="the card edited to show the ack")
    assert any(u["ts"] == room["pins"][0] for u in slack_bot.fake.updates)  # chat.update on the card, not a new card
    assert len(room["pins"]) == 1 and len(slack_bot.crisis_channels()) == channels + 1
    await said(slack_bot, ALICE, "Alice Chen accepted")

    await slack_bot.command(ALICE, "task Tell <!channel> & the <@U0BOB> team in 30m", room["id"])
    posted = await slack_bot.message(room["id"], "Tell <!channel> & the")
    assert "&lt;!channel&gt; &amp; the" in posted["text"] and "<!channel>" not in str(posted["blocks"])  # shown as typed, no @channel


@shared
async def test_draft_approved_by_button_pinned_line_edited_draft_rejected_with_a_reason_line_published_verbatim(slack_bot):
    room = (await slack_bot.declare("Battery draft", settled=False))["id"]
    n = incident_of(slack_bot, "Battery draft")
    await slack_bot.command(CAROL, f"draft {LINE}", room)
    request, approve = await slack_bot.wait_for(lambda: button_labelled(new_in(slack_bot, BOB), "Approve v1"))
    assert [b["text"]["text"] for b in buttons(request)] == ["Approve v1", "Reject v1"] and LINE in unescape(request["text"])
    dm = slack_bot.fake.ims[BOB]
    body, headers = slack_bot.fake.block_action(BOB, dm, approve["action_id"], approve["value"], message_ts=request["ts"])
    twice = await asyncio.gather(slack_bot.post(body, headers), slack_bot.post(body, slack_bot.fake.with_retry(headers)))
    assert [status for status, _text, _seconds in twice] == [200, 200]  # the same click delivered twice: it counts once
    await said(slack_bot, BOB, "Bob Li approved v1")
    await slack_bot.command(ALICE, "approve", room)
    pinned = await slack_bot.message(room, f"Approved line of #{n} — v1", 15)
    await slack_bot.wait_for(lambda: pinned["ts"] in slack_bot.fake.channels[room]["pins"], 15, "the line pinned")  # pinned after posting
    assert LINE in unescape(pinned["text"])
    bobs_dm = new_texts(slack_bot, BOB)
    assert sum("approved v1" in t for t in bobs_dm) == 1 and not any("already" in t or "same moment" in t for t in bobs_dm)
    mine = "SELECT role, person FROM approval JOIN statement ON statement.id = statement_id WHERE incident_id = ? ORDER BY approval.id"
    assert slack_bot.query(mine, n) == [("legal", "bob"), ("commander", "alice")]

    second = "Update: " + LINE
    await slack_bot.command(CAROL, f"draft {second}", room)
    await said(slack_bot, BOB, "Draft v2")
    await slack_bot.command(BOB, "approve v2", room)
    await slack_bot.wait_for(lambda: approvals(slack_bot, n) == 3, what="Bob's approval of v2")  # one at a time here
    await slack_bot.command(ALICE, "approve v2", room)
    line_now = lambda: "— v2" in slack_bot.fake.current(room, pinned["ts"])["text"]  # noqa: E731
    await slack_bot.wait_for(line_now, 15, "the pinned line edited to v2")
    assert any(u["ts"] == pinned["ts"] for u in slack_bot.fake.updates)  # edited in place…
    assert sum(f"Approved line of #{n}" in t for t in slack_bot.texts(room)) == 1  # …not posted again
    assert len(slack_bot.fake.channels[room]["pins"]) == 2  # the card and the line

    await slack_bot.command(CAROL, "draft Third try. Next update at 11:00.", room)
    request, reject = await slack_bot.wait_for(lambda: button_labelled(new_in(slack_bot, BOB), "Reject v3"))
    await slack_bot.click(BOB, slack_bot.fake.ims[BOB], request, reject)
    prompts = lambda: [v["view"] for v in slack_bot.fake.views if v["view"]["callback_id"] == "ov_prompt"]  # noqa: E731
    modal = await slack_bot.wait_for(prompts)
    assert modal[0]["blocks"][0]["type"] == "input"  # the reason
    await slack_bot.submit(BOB, "ov_prompt", {"answer": {"text": "Too vague for the press"}})
    await said(slack_bot, BOB, "v3 rejected by Bob Li: Too vague for the press")
    await said(slack_bot, CAROL, f"Your draft v3 of #{n} was rejected by Bob Li")

    await slack_bot.command(CAROL, "publish newsroom", room)
    await said(slack_bot, "C0NEWS", "Update: We are sorry", 15)
    sent = new_in(slack_bot, "C0NEWS")
    assert len(sent) == 1 and unescape(sent[0]["text"]) == second and sent[0]["mrkdwn"] is False  # v2, byte for byte
    assert "<" not in sent[0]["text"]  # `<b>` is escaped: shown as typed, never markup


@shared
async def test_declare_with_no_text_opens_the_form_and_submitting_it_declares(slack_bot):
    views = len(slack_bot.fake.views)
    await slack_bot.command(DAVE, "declare")
    view = (await slack_bot.wait_for(lambda: slack_bot.fake.views[views:], what="views.open"))[0]["view"]
    assert view["callback_id"] == "ov_declare"
    selects = {b["block_id"]: [o["value"] for o in b["element"].get("options", [])] for b in view["blocks"]}
    assert "outage" in selects["playbook"] and selects["severity"] == ["sev1", "sev2", "sev3", "sev4"] and "title" in selects
    values = {"playbook": {"playbook": "outage"}, "severity": {"severity": "sev1"}, "title": {"title": "Payments down"}}
    await slack_bot.submit(DAVE, "ov_declare", values)
    room = await slack_bot.room("payments-down")
    assert room["name"] == "crisis-20260302-payments-down"
    await slack_bot.wait_for(lambda: DAVE in room["members"], what="the declarer invited")
    mine = "SELECT playbook, severity, declared_by FROM incident WHERE title = 'Payments down'"
    assert slack_bot.query(mine) == [("outage", "sev1", "dave")]


@pytest.mark.fresh_start  # `python -m bot.cli` itself starts, in a new interpreter (the others fork: tests/e2e/forked_run.py)
async def test_a_nudge_arrives_with_snooze_buttons_and_snoozing_works(start_slack_bot, monkeypatch):
    monkeypatch.setenv(PACE_SETTING, QUICK_PACE)
    bot = await start_slack_bot(FAST_NUDGES)
    room = (await bot.declare())["id"]  # settled: the reminders are not queued behind the room's first posts
    # a Chinese draft right after a fresh start: its names are looked for by a tagger built before the first request was
    # served, not inside this command's transaction (1.6 s of CPU, past the 3 s `command` allows on a loaded machine)
    await bot.command(CAROL, "draft We are sorry. Next update at 11:00. 我们很抱歉，下次更新在11:00。", room)
    nudge, snooze = await bot.wait_for(lambda: button_labelled(bot.fake.messages_in(BOB), "Snooze 15 min"), 15, "a nudge")
    assert "waited" in nudge["text"] and "Snooze 1 h" in [b["text"]["text"] for b in buttons(nudge)]
    await bot.click(BOB, bot.fake.ims[BOB], nudge, snooze)
    await bot.message(BOB, "snoozed until")
    legal = "SELECT state FROM nudge WHERE kind = 'approval_pending' AND subject = 'v1:legal' AND state IN ('pending', 'snoozed')"
    assert bot.query(legal) == [("snoozed",)]
    # the commander's reminder, not snoozed, goes on to the commander's backup; the snoozed one stays quiet
    await bot.message(DAVE, "lacks the approval of Incident commander", 15)
    assert not any("approval of Legal counsel" in t for t in bot.texts(ERIN))


# ---- security


@shared
async def test_forged_stale_or_unknown_requests_change_nothing_and_a_command_retried_by_slack_declares_once(slack_bot):
    channels, incidents = len(slack_bot.crisis_channels()), slack_bot.query("SELECT count(*) FROM incident")[0][0]
    creates = len(slack_bot.calls("conversations.create"))
    body, headers = slack_bot.fake.slash_command(ALICE, "declare outage sev2 Forged", GENERAL)
    forged = {**headers, "X-Slack-Signature": "v0=" + "0" * 64}
    assert (await slack_bot.post(body, forged))[0] == 401
    assert (await slack_bot.post(body.replace(b"Forged", b"Tampered"), headers))[0] == 401
    assert (await slack_bot.post(body, slack_bot.fake.sign(body, int(time.time()) - 6 * 60)))[0] == 401  # older than 5 minutes
    await slack_bot.command("U0NOBODY", "declare outage sev2 Not mine")  # signed, but not a team member
    reply = await said(slack_bot, GENERAL, "U0NOBODY")
    assert reply["ephemeral"] and "not in the team model" in reply["text"]
    assert len(slack_bot.crisis_channels()) == channels and slack_bot.query("SELECT count(*) FROM incident") == [(incidents,)]

    body, headers = slack_bot.fake.slash_command(ALICE, "declare outage sev2 Checkout down", GENERAL, trigger_id="trig-1")
    assert (await slack_bot.post(body, headers))[0] == 200
    again, retry_headers = slack_bot.fake.slash_command(ALICE, "declare outage sev2 Checkout down", GENERAL, trigger_id="trig-1")
    assert (await slack_bot.post(again, slack_bot.fake.with_retry(retry_headers)))[0] == 200  # Slack's redelivery
    room = await slack_bot.room("checkout-down")
    await slack_bot.wait_for(lambda: room["pins"] and slack_bot.pending_effects() == 0, 15)
    assert len(slack_bot.crisis_channels()) == channels + 1 and len(slack_bot.calls("conversations.create")) == creates + 1
    assert slack_bot.query("SELECT count(*) FROM incident") == [(incidents + 1,)]
    n = incident_of(slack_bot, "Checkout down")
    assert sum(t.startswith(f"Declared #{n}") for t in slack_bot.texts(GENERAL)) == 1


async def test_sigterm_lets_a_delivery_in_flight_finish(start_slack_bot):
    slack_bot = await start_slack_bot()  # its own process: it is stopped here
    slack_bot.fake.fail_next("conversations.create", 429, retry_after=2)  # the worker waits 2 s inside the call
    await slack_bot.command(ALICE, "declare outage sev2 Checkout down")
    await slack_bot.wait_for(lambda: slack_bot.calls("conversations.create"), what="the delivery started")
    slack_bot.process.send_signal(signal.SIGTERM)
    code = await asyncio.to_thread(slack_bot.process.wait, 15)
    assert slack_bot.crisis_channels() and code == 0


@shared
async def test_two_approvers_approving_at_the_same_moment_make_the_line(slack_bot):
    room = (await slack_bot.declare("Battery approvals", settled=False))["id"]
    incident = incident_of(slack_bot, "Battery approvals")
    for n in (1, 2, 3):
        await slack_bot.command(CAROL, f"draft Version {n}. Next update at 11:00.", room)
        version = f"SELECT state FROM statement WHERE incident_id = {incident} AND version = {n}"
        await slack_bot.wait_for(lambda: slack_bot.query(version) == [("pending",)], what=f"draft v{n}")  # noqa: B023
        await asyncio.gather(slack_bot.command(BOB, f"approve v{n}", room), slack_bot.command(ALICE, f"approve v{n}", room))
        await slack_bot.wait_for(lambda: approvals(slack_bot, incident) == 2 * n, what=f"both approvals of v{n}")  # noqa: B023
        assert slack_bot.query(version) == [("approved",)], f"v{n} has both approvals but is not the line"
