"""Claims on Slack end to end: Track as claim from a triage post, the unanswered-claim nudge with its Rebut button, the
claim answered and published (the real `onevoice run` process, the fake Slack Web API, a signed signal over HTTP)."""

import json

import aiohttp

from bot.web.signals import HEADER, signature
from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, BOB, CAROL, DAVE, button_labelled, unescape
from tests.handlers.test_claims import REBUTTAL

start_slack_bot = slack_process.start_slack_bot  # the fixture

SECRET = "claims-signals-secret"
# A wide false claim must be answered within 2 s at sev2 here, so the nudge comes while the test waits.
FAST_CLAIMS = "triage_room: {slack: C0TRIAGE}\nclaims: {reach_alert: 1000, answer_within: {sev2: 2s}}\n"
RUMOUR = {
    "source": "brandwatch",
    "title": "PB-20 power banks explode <b>when</b> charged & left overnight",
    "url": "https://weibo.example/p/1",
    "volume": 12000,
    "baseline": 300,
    "sentiment": -0.7,
    "dedup_key": "pb20-explode",
}


async def test_a_claim_tracked_from_triage_nudged_rebutted_and_published(start_slack_bot, monkeypatch):
    monkeypatch.setenv("ONEVOICE_SIGNALS_SECRET", SECRET)
    monkeypatch.setenv(slack_process.PACE_SETTING, slack_process.QUICK_PACE)
    bot = await start_slack_bot(FAST_CLAIMS)
    bot.fake.add_channel("triage", channel_id="C0TRIAGE", members=[bot.fake.bot_user_id])
    room = (await bot.declare())["id"]

    body = json.dumps(RUMOUR).encode()
    signed = {HEADER: signature(SECRET, body)}
    async with aiohttp.ClientSession() as http, http.post(f"{bot.url}/signals", data=body, headers=signed) as got:
        assert got.status == 202, await got.text()
    post, track = await bot.wait_for(lambda: button_labelled(bot.fake.messages_in("C0TRIAGE"), "Track as claim"), 15, "the triage post")
    await bot.click(DAVE, "C0TRIAGE", post, track)
    logged = await bot.message(room, "C1", 15)
    assert "C1 logged by Dave Zhang" in unescape(logged["text"]).replace("*", "")
    assert "PB-20 power banks explode &lt;b&gt;when&lt;/b&gt; charged &amp; left overnight" in logged["text"]  # escaped, shown as typed
    assert "Reach 12,000" in logged["text"]
    tracked = lambda: "Tracked as C1 in #1." in bot.fake.current("C0TRIAGE", post["ts"])["text"]  # noqa: E731
    await bot.wait_for(tracked, 15, "the triage post edited in place")

    await bot.command(BOB, "verify c1 false none of the recalled units caught fire", room)
    nudge, rebut = await bot.wait_for(lambda: button_labelled(bot.fake.messages_in(ALICE), "Rebut C1"), 20, "the unanswered-claim nudge")
    assert "has no published answer" in nudge["text"] and "/crisis rebut c1" in nudge["text"]

    await bot.command(CAROL, f"draft rebuttal {REBUTTAL}", room)
    await bot.message(BOB, "Draft v1")
    await bot.command(BOB, "approve v1", room)
    await bot.wait_for(lambda: bot.query("SELECT count(*) FROM approval")[0][0] == 1, what="Bob's approval")
    await bot.command(ALICE, "approve v1", room)
    await bot.message(room, "Approved line of #1 — v1", 15)
    await bot.click(ALICE, bot.fake.ims[ALICE], nudge, rebut)  # the nudge's button answers the claim with the line
    await bot.message(room, "answered with v1, not yet published", 15)
    await bot.command(CAROL, "publish newsroom", room)
    await bot.message("C0NEWS", "PB-20 power banks do not explode", 15)
    cleared = "SELECT count(*) FROM nudge WHERE kind = 'claim_unanswered' AND state IN ('pending', 'snoozed')"
    await bot.wait_for(lambda: bot.query(cleared) == [(0,)], 15, "the nudge cleared by the publication")
    _status, answer, _seconds = await bot.command(ALICE, "claims", room)
    assert "answered with v1, published on newsroom" in answer and "0 false and unanswered" in answer
