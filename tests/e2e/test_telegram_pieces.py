"""Telegram end to end, long messages: over 4,096 characters, the bot's text is split into valid HTML pieces (by the outbox
and by the command handler), by long polling and by webhook (moved from test_telegram.py, which grew past 300 lines)."""

import pytest

from tests.e2e import telegram_process
from tests.e2e.telegram_process import BOT_NAME, CAROL, DAVE, GROUP, MODES, buttons, valid_html
from tests.fakes.telegram_api import html_to_text

start_telegram_bot = telegram_process.start_telegram_bot  # the fixture: bots of their own (a team file of their own)

LONG_PLAYBOOK = "playbooks:\n  recall:\n    title: {en: Recall, zh: 召回}\n    severity: sev3\n"
LONG_PLAYBOOK += "    required_roles: {sev3: [commander]}\n    approvers: {sev3: [commander]}\n    checklist:\n"
LONG_PLAYBOOK += "".join(
    f'      - {{title: {{en: "Item {i}: check the R&D <lab> results for lot {i}; tell the regulator, the retailers & the press '
    f'about it at once and keep every piece of evidence", zh: "第 {i} 项：核查批次"}}, owner: commander, due: {i}h}}\n'
    for i in range(1, 41)
)


def pieces_are_clean(pieces: list[dict]) -> None:
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece["parse_mode"] == "HTML" and valid_html(piece["text"]) and len(html_to_text(piece["text"])) <= 4096
    items = [line for piece in pieces for line in html_to_text(piece["text"]).splitlines() if "Item " in line]
    assert [int(line.split("Item ")[1].split(":")[0]) for line in items] == list(range(1, 41))  # every item once, in order
    assert all("R&D <lab> results" in line for line in items)  # escaped on the way, read as typed


@pytest.mark.parametrize("mode", MODES)
async def test_a_message_over_4096_characters_is_split_into_valid_html_pieces(start_telegram_bot, mode):
    bot = await start_telegram_bot(mode, LONG_PLAYBOOK)
    thread = await bot.declare("Lot recall", "recall sev3")  # the checklist posted in the topic: by the outbox
    pieces_are_clean([m for m in bot.fake.messages_in(GROUP, thread) if "Item " in m["plain"]])
    await bot.command(DAVE, f"/tasks@{BOT_NAME} all", thread)  # answered by DM: by the command handler
    await bot.message(DAVE, "Item 40")
    pieces_are_clean([m for m in bot.fake.messages_in(DAVE) if "Item " in m["plain"]])
    await bot.wait_for(lambda: bot.pending_effects() == 0, 15, "every piece marked sent")  # the mark follows the send, off its path
    assert bot.query("SELECT count(*) FROM outbox WHERE state != 'sent'") == [(0,)]  # none given up


# ---- known bugs


@pytest.mark.parametrize("mode", ["polling"])
async def test_a_split_answer_carries_its_buttons_once_under_the_last_piece(start_telegram_bot, mode):
    bot = await start_telegram_bot(mode)
    await bot.declare(settled=False)
    long = ("We are sorry & <careful> about R&D. " * 105)[:3900] + " Next update at 11:00."
    await bot.command(CAROL, f"/crisis #1 draft {long}", chat=CAROL)  # in private: the answer is the approval request
    await bot.message(CAROL, "beyond it", timeout=15)
    answer = [m for m in bot.fake.messages_in(CAROL) if "Draft v1" in m["plain"] or "careful" in m["plain"]]
    assert len(answer) >= 2
    assert [bool(buttons(m)) for m in answer] == [False] * (len(answer) - 1) + [True]
