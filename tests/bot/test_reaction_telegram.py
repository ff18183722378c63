"""Attach and Detach on a Telegram triage post (PRODUCT.md §7), through the real webhook: the buttons' callback data is
vetted as the presser's own typed command, so an outsider or a forged press changes nothing."""

from config.model import RoomHandles
from handlers.signals.intake import SignalIn, receive
from storage.db import session
from tests.bot.telegram_world import ALICE, GROUP, OUTSIDER, TelegramWorld, team


def buttons(markup: dict | None) -> dict[str, str]:
    return {b["text"]: b["callback_data"] for row in (markup or {}).get("inline_keyboard", []) for b in row}


def test_detach_and_attach_from_the_telegram_triage_post(database):
    world = TelegramWorld(database, config=team().model_copy(update={"triage_room": RoomHandles(telegram=GROUP)}))
    try:
        world.command(ALICE, "/crisis declare product-quality sev2 Battery overheating")
        with session(world.bot.engine) as db:
            receive(db, world.bot.deps, SignalIn.model_validate({"source": "watch", "title": "PB-20 smoke", "incident": 1, "volume": 9}))
        world.run(world.bot.deliver())
        post = next(m for m in world.in_group() if "Signal 1" in m["plain"])
        assert "Attached to #1 (it names the incident)." in post["plain"]
        detach = buttons(post["reply_markup"])["Detach"]
        refused = world.press(OUTSIDER, detach, post)
        assert refused and "not in the team model" in refused["text"]
        forged = world.press(OUTSIDER, "#1 detach 1", post)
        assert forged and "not in the team model" in forged["text"]
        assert not world.fake.edits  # nothing changed
        world.press(ALICE, detach, post)
        [edit] = [e for e in world.fake.edits if e["message_id"] == post["message_id"]]
        assert "Attached" not in edit["text"] and set(buttons(edit["reply_markup"])) == {"Declare", "Attach to #1", "Track as claim"}
        world.press(ALICE, buttons(edit["reply_markup"])["Attach to #1"], post)
        last = [e for e in world.fake.edits if e["message_id"] == post["message_id"]][-1]
        assert "Attached to #1 (attached by hand)." in last["text"] and set(buttons(last["reply_markup"])) == {"Detach", "Track as claim"}
    finally:
        world.close()
