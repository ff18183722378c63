"""Matrix end to end: a restart of `onevoice run` resumes from its stored sync token. A command typed while it was down
is answered once it is back; nothing it had already decided is decided again, even when it logs in anew by password."""

from tests.e2e.matrix.matrix_client import stripped

ASSIGNED = "Executive sponsor: Bob Li (by Alice Chen)"
NOTED = "Noted in the timeline of #1."


async def test_a_restart_neither_loses_nor_replays_an_event(matrix_bot):
    bot = matrix_bot
    alice = await bot.user("alice")
    room = await bot.declare()
    await bot.command("dave", "note Supplier called back", room)
    dm, _noted = await bot.direct("dave", NOTED)  # a private answer: in Dave's direct chat, not in the room
    dave = await bot.user("dave")
    await bot.settled()

    await bot.stop_process()
    await bot.command("alice", f"assign exec {bot.server.people['bob'].user_id}", room)  # typed while the bot is down
    await bot.restart()
    await alice.says(room, ASSIGNED, bot.user_id, timeout=30)

    # a second restart with nothing new since, logging in by password this time (a new device, the same stored token):
    # nothing may be replayed
    await bot.restart(password=True)
    await bot.command("dave", "note Lab results due at noon", room)
    await dave.wait(lambda: len(dave.matching(dm, NOTED, bot.user_id)) >= 2, 30, "the second note's answer")
    await bot.settled()
    await alice.sync()
    await dave.sync()
    noted = bot.from_bot(dave, dm)
    assert sum(NOTED in body for body in noted) == 2, noted  # one answer per note: none replayed, none lost
    said = bot.from_bot(alice, room)
    assert sum(ASSIGNED in body for body in said) == 1 and not any(NOTED in body for body in said), said
    assert sum(body.startswith("Declared #1") for body in bot.from_bot(alice, bot.crisis_room)) == 1
    assert len(await alice.pinned(room)) == 1
    assert not [r for r, state in alice.invites.items() if "battery" in stripped(state, "m.room.name").get("name", "")], "a second room"
