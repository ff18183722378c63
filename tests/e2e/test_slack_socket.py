"""Socket Mode: `onevoice run` with SLACK_APP_TOKEN opens the websocket that `apps.connections.open` returns, on the configured API."""

import pytest

from tests.e2e import slack_process
from tests.e2e.slack_process import ALICE, CAROL, GENERAL

start_slack_bot = slack_process.start_slack_bot  # the fixture


@pytest.mark.fresh_start  # `python -m bot.cli` itself starts in Socket Mode, in a new interpreter (the others fork)
async def test_socket_mode_acks_a_slash_command_and_declares(start_slack_bot):
    bot = await start_slack_bot(app_token="xapp-1-A0TEST-test")
    assert "Slack (Socket Mode)" in bot.output()
    await bot.wait_for(bot.fake.socket_connected.is_set, 10, "the Socket Mode connection")
    opened = [params for name, params in bot.fake.calls if name == "apps.connections.open"]
    assert len(opened) == 1  # on the fake, i.e. on ONEVOICE_SLACK_API_URL, with the app-level token (the fake checks it)

    fields = bot.fake.command_fields(ALICE, "declare product-quality sev2 Battery overheating", GENERAL)
    ack = await bot.fake.socket_send({"type": "slash_commands", "payload": fields})
    assert ack["envelope_id"].startswith("env-")
    assert "Declared #1" in ack["payload"]["text"]  # the ack waited for the decision: it carries the new incident's number
    room = await bot.room("battery-overheating")
    await bot.wait_for(lambda: room["pins"], 10, "the card pinned")
    assert room["name"] == "crisis-20260302-battery-overheating"
    await bot.message(GENERAL, "Declared #1")

    # a button over the same socket: the ack from a role DM edits the card
    brief = await bot.message(CAROL, "You are *Spokesperson*")
    button = brief["blocks"][-1]["elements"][0]
    action = bot.fake.action_payload(CAROL, bot.fake.ims[CAROL], button["action_id"], button["value"], message_ts=brief["ts"])
    await bot.fake.socket_send({"type": "interactive", "payload": action})
    card_now = lambda: "Spokesperson: Carol Wang ✓" in bot.fake.current(room["id"], room["pins"][0])["text"]  # noqa: E731
    await bot.wait_for(card_now, 10, "the card edited to show Carol's ack")
    # "@OneVoice" in a channel it is in: the command overview posted there, once, though Slack sends the event twice
    bot.fake.channels[GENERAL]["members"].add(bot.fake.bot_user_id)
    event = {"type": "app_mention", "user": ALICE, "channel": GENERAL, "text": "<@UBOT0001> hi", "ts": "1700000999.000100"}
    callback = {"type": "event_callback", "team_id": bot.fake.team_id, "event_id": "Ev0MENTION", "event_time": 1, "event": event}
    for _ in range(2):
        await bot.fake.socket_send({"type": "events_api", "payload": callback})
    overview = await bot.message(GENERAL, "/crisis", 10)
    assert overview["via"] is None and not overview["ephemeral"]  # posted by the bot (from the outbox), not an ack
    assert sum("/crisis" in m["text"] and m.get("via") is None for m in bot.fake.messages_in(GENERAL)) == 1
    async with bot.http.get(f"{bot.admin_url}/readyz") as ready:  # the probes are still served over HTTP
        assert ready.status == 200 and (await ready.json())["platforms"] == ["slack"]
