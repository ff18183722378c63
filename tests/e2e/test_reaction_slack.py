"""Did the statement land? over real HTTP: signed signals to /signals attach to a Slack-declared incident, and the follow-up
after the publication reaches the incident's channel (a real `onevoice run` against the fake Slack)."""

import json
import sqlite3

import aiohttp

from bot.web.signals import HEADER, signature
from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, BOB, CAROL

start_slack_bot = slack_process.start_slack_bot
SIGNALS = "reaction-signals-secret"
TRIAGE = "C0TRIAGE"
LINE = "We are sorry for the worry caused by PB-20 power banks overheating. Next update at 11:00."


async def send(bot, fields: dict) -> tuple[int, dict]:
    body = json.dumps(fields).encode()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{bot.url}/signals", data=body, headers={HEADER: signature(SIGNALS, body)}) as response:
            return response.status, await response.json()


async def test_signals_attach_to_a_slack_incident_and_the_follow_up_reaches_its_channel(start_slack_bot, monkeypatch):
    monkeypatch.setenv("ONEVOICE_SIGNALS_SECRET", SIGNALS)
    monkeypatch.setenv(slack_process.PACE_SETTING, slack_process.QUICK_PACE)
    monkeypatch.setenv("ONEVOICE_TICK_SECONDS", "1")  # the follow-up made due below is found by the safety tick, in 1 s not 15
    bot = await start_slack_bot(config_extra=f"\ntriage_room:\n  slack: {TRIAGE}\n")
    bot.fake.add_channel("triage", channel_id=TRIAGE, members=[bot.fake.bot_user_id])
    room = await bot.declare()
    status, answer = await send(
        bot, {"source": "weibo-watch", "title": "PB-20 fire posts", "incident": 1, "volume": 100, "sentiment": -0.5, "keywords": ["PB-20"]}
    )
    assert status == 202 and answer["signal"] == 1
    await bot.message(TRIAGE, "Attached to #1 (it names the incident).")
    await bot.command(CAROL, f"draft {LINE}", room["id"])
    await bot.command(BOB, "approve v1", room["id"])
    await bot.command(ALICE, "approve v1", room["id"])
    await bot.command(CAROL, "publish newsroom", room["id"])
    await bot.message("C0NEWS", "We are sorry", 15)
    status, answer = await send(
        bot, {"source": "weibo-watch", "title": "PB-20 replies", "volume": 40, "sentiment": -0.2, "keywords": ["pb-20"]}
    )
    assert status == 202 and answer["signal"] == 2
    await bot.message(TRIAGE, "Attached to #1 (shared keywords).")
    # An hour cannot pass in a test: the follow-up promised at publication is made due now, as the hour passing would.
    with sqlite3.connect(bot.database) as db:
        moved = db.execute("UPDATE nudge SET due_at = created_at WHERE kind = 'reaction_follow_up' AND subject = 'v1:1h'").rowcount
    assert moved == 1
    said = await bot.message(room["id"], "since v1 went out", 40)  # the scheduler's safety tick finds it (the bot was not told)
    assert "volume 140 an hour (none the hour before), sentiment — → −0.35" in said["text"]
    # A mistake fixed from the triage post: Detach (as a member who may), and the post offers Declare again.
    post = await bot.message(TRIAGE, "PB-20 replies")
    [detach] = [b for b in slack_process.buttons(post) if b["text"]["text"] == "Detach"]
    await bot.click("U0NOBODY", TRIAGE, post, detach)  # signed, but not a team member: told so, privately
    refused = await bot.message(TRIAGE, "U0NOBODY")
    assert refused["ephemeral"] and "not in the team model" in refused["text"]
    assert "Attached to #1 (shared keywords)." in (bot.fake.current(TRIAGE, post["ts"]).get("text") or "")
    await bot.click(ALICE, TRIAGE, post, detach)
    await bot.wait_for(
        lambda: "Attached" not in (bot.fake.current(TRIAGE, post["ts"]).get("text") or ""), 15, "the triage post retold without it"
    )
    assert [b["text"]["text"] for b in slack_process.buttons(bot.fake.current(TRIAGE, post["ts"]))] == [
        "Declare",
        "Attach to #1",
        "Track as claim",
    ]
