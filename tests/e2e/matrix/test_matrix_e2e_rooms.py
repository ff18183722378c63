"""Matrix end to end (PRODUCT.md §12): `onevoice run` against a real Synapse. Declaring opens a room in the space with
the responders invited and the card pinned; roles are assigned and accepted by typed commands; a direct chat serves
(in Chinese, where the team speaks it); a stranger is refused. Everything asserted is what a Matrix client shows its user."""

import pytest

from tests.e2e.matrix.matrix_process import STRANGER, TEAM

ROOM = "crisis-20260302-battery-overheating"


@pytest.mark.fresh_start  # `python -m bot.cli` itself starts, in a new interpreter (the others fork: tests/e2e/forked_run.py)
async def test_declare_creates_a_room_in_the_space_invites_the_responders_pins_the_card_and_ack_edits_it(matrix_bot):
    bot = matrix_bot
    alice = await bot.user("alice")
    room = await bot.declare()

    declared = await alice.says(bot.crisis_room, "Declared #1", bot.user_id)
    assert ROOM in declared["content"]["body"] and declared["content"]["msgtype"] == "m.notice"
    assert (await alice.state(room, "m.room.name")) == {"name": ROOM}
    assert "via" in ((await alice.state(bot.space, "m.space.child", room)) or {}), "the room is not a child of the space"
    assert (await alice.state(room, "m.space.parent", bot.space)) is not None, "the room does not name its space"
    assert (await alice.state(room, "m.room.encryption")) is None  # encrypted rooms are not supported: none is made
    team = {bot.server.people[name].user_id for name in TEAM}
    invited = lambda: _members(alice, room, ("invite", "join"))  # noqa: E731
    await alice.wait(lambda: _has(invited, team), 30, "every responder invited")
    members = await alice.members(room)
    assert bot.server.people[STRANGER].user_id not in members

    [card_id] = await alice.pinned(room)
    card = await alice.event(room, card_id)
    assert card["sender"] == bot.user_id
    body, html = card["content"]["body"], card["content"].get("formatted_body", "")
    assert "#1 Battery overheating" in body and "sev2" in body and "Legal counsel: Bob Li" in body
    assert card["content"].get("format") == "org.matrix.custom.html" and "Battery overheating" in html

    # no buttons on Matrix: the duty message shows the command to type
    _dm, duty = await bot.direct("bob", "You are Legal counsel")
    assert "!crisis #1 ack" in duty["content"]["body"]

    bob_id = bot.server.people["bob"].user_id  # mentioned as Element does: his name in the body, a pill in the HTML
    pill = f'!crisis assign exec <a href="https://matrix.to/#/{bob_id}">Bob Li</a>'
    await (await bot.user("alice")).send(room, "!crisis assign exec Bob Li", html=pill)
    await alice.says(room, "Executive sponsor: Bob Li (by Alice Chen)", bot.user_id)
    dm, brief = await bot.direct("bob", "You are Executive sponsor")
    await bot.command("bob", "#1 ack", dm)
    await (await bot.user("bob")).says(dm, "Bob Li accepted", bot.user_id)

    shows_ack = lambda: "Executive sponsor: Bob Li ✓" in alice.current(room, card).get("body", "")  # noqa: E731
    await alice.wait(shows_ack, 30, "the pinned card edited to show the ack")
    edit = alice.edits(room, card_id)[-1]["content"]
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": card_id}
    assert edit["m.new_content"].get("format") == "org.matrix.custom.html"
    await bot.settled()
    await alice.sync()
    assert await alice.pinned(room) == [card_id]  # edited in place: no second card
    assert sum(body.startswith("Declared #1") for body in bot.from_bot(alice, bot.crisis_room)) == 1


async def test_in_chinese_a_command_in_a_direct_chat_is_answered_there_and_a_stranger_is_refused(start_matrix_bot):
    bot = await start_matrix_bot(extra={"language": "zh"})
    dave, mallory = await bot.user("dave"), await bot.user(STRANGER)
    dm = await dave.create_room(invite=(bot.user_id,), direct=True, preset="trusted_private_chat")
    joined = lambda: _joined(dave, dm, bot.user_id)  # noqa: E731
    await dave.wait(joined, 30, "the bot joining Dave's direct chat")
    await bot.command("dave", "list", dm)
    await dave.says(dm, "目前没有未关闭的事件。", bot.user_id)  # "No open incidents."

    await bot.command(STRANGER, "declare outage sev1 Forged by a stranger")
    refusal = await mallory.says(bot.crisis_room, mallory.user_id, bot.user_id)
    assert refusal["content"]["msgtype"] == "m.notice" and "你尚未加入团队配置" in refusal["content"]["body"]
    stranger_dm = await mallory.create_room(invite=(bot.user_id,), direct=True, preset="trusted_private_chat")
    await dave.send(dm, "list")  # in a direct chat the prefix may be left out; handled after the stranger's command and invite
    await dave.wait(lambda: len(dave.matching(dm, "目前没有未关闭的事件。", bot.user_id)) == 2, 30, "the second answer")
    alice = await bot.user("alice")
    await alice.sync()
    assert not any("#1" in body for body in bot.from_bot(alice, bot.crisis_room)), "the stranger declared"
    assert not alice.invites, "a room was opened for the stranger"
    assert (await mallory.members(stranger_dm)).get(bot.user_id) == "invite"  # the bot does not join a stranger's chat


async def _joined(person, room: str, user_id: str) -> bool:
    return (await person.members(room)).get(user_id) == "join"


async def _members(person, room: str, states: tuple[str, ...]) -> set[str]:
    return {user for user, membership in (await person.members(room)).items() if membership in states}


async def _has(found, expected: set[str]) -> bool:
    return expected <= await found()
