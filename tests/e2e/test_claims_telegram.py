"""Claims on Telegram end to end: Track as claim from a triage post, the unanswered-claim nudge with its Rebut button, the
claim answered and published (the real `onevoice run` process by long polling, the fake Bot API, a signed signal)."""

import json

import aiohttp

from bot.web.signals import HEADER, signature
from tests.e2e import telegram_process
from tests.e2e.telegram_process import ALICE, BOB, CAROL, DAVE, buttons, data_of, valid_html
from tests.e2e.test_claims_slack import RUMOUR, SECRET
from tests.handlers.test_claims import REBUTTAL

start_telegram_bot = telegram_process.start_telegram_bot  # the fixture

TRIAGE = -1001111111111
FAST_CLAIMS = f"triage_room: {{telegram: {TRIAGE}}}\nclaims: {{reach_alert: 1000, answer_within: {{sev2: 2s}}}}\n"


async def test_a_claim_tracked_from_triage_nudged_rebutted_and_published(start_telegram_bot, monkeypatch):
    monkeypatch.setenv("ONEVOICE_SIGNALS_SECRET", SECRET)
    bot = await start_telegram_bot("polling", FAST_CLAIMS)
    bot.fake.add_chat(TRIAGE, "supergroup", "Triage")
    thread = await bot.declare()

    body = json.dumps(RUMOUR).encode()
    signed = {HEADER: signature(SECRET, body)}
    async with aiohttp.ClientSession() as http, http.post(f"{bot.url}/signals", data=body, headers=signed) as got:
        assert got.status == 202, await got.text()
    post = await bot.message(TRIAGE, "PB-20 power banks explode", timeout=15)
    track = data_of(post, "Track as claim")
    assert track == "claim --signal 1" and len(track.encode()) <= 64  # Telegram's callback data limit
    await bot.press(DAVE, post, track)
    logged = await bot.wait_for(
        lambda: next(
            (m for m in bot.fake.messages_in(telegram_process.GROUP, thread) if "C1" in m["plain"] and "logged" in m["plain"]), None
        ),
        15,
        "the claim in the incident topic",
    )
    assert "PB-20 power banks explode <b>when</b> charged & left overnight" in logged["plain"] and valid_html(logged["text"])
    assert "Reach 12,000" in logged["plain"]

    await bot.command(BOB, "/verify c1 false none of the recalled units caught fire", thread)
    has_rebut = lambda: next((m for m in reversed(bot.fake.messages_in(ALICE)) if "Rebut C1" in str(buttons(m))), None)  # noqa: E731
    nudge = await bot.wait_for(has_rebut, 20, "the unanswered-claim nudge to Alice")
    assert "has no published answer" in nudge["plain"] and data_of(nudge, "Rebut C1") == "#1 rebut c1"

    await bot.command(CAROL, f"/draft rebuttal {REBUTTAL}", thread)
    await bot.command(BOB, "/approve v1", thread)
    await bot.command(ALICE, "/approve v1", thread)
    await bot.message(telegram_process.GROUP, "Approved line of #1 — v1", thread, timeout=15)
    await bot.press(ALICE, nudge, data_of(nudge, "Rebut C1"))  # the nudge's button answers the claim with the line
    await bot.message(telegram_process.GROUP, "answered with v1, not yet published", thread, timeout=15)
    await bot.command(CAROL, "/publish announcements", thread)
    await bot.message("@brand_news", "PB-20 power banks do not explode", timeout=15)
    cleared = "SELECT count(*) FROM nudge WHERE kind = 'claim_unanswered' AND state IN ('pending', 'snoozed')"
    await bot.wait_for(lambda: bot.query(cleared) == [(0,)], 15, "the nudge cleared by the publication")
    await bot.command(ALICE, "/claims", thread)
    found = lambda: next((m for m in bot.fake.messages if "Claims of #1" in m.get("plain", "")), None)  # noqa: E731
    listing = await bot.wait_for(found, 15, "the listing")
    assert "answered with v1, published on announcements" in listing["plain"] and "0 false and unanswered" in listing["plain"]
