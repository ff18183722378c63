"""Matrix end to end: the approved line. A draft approved by both approvers is pinned; v2 edits that pinned message in
place (m.replace); `publish` to a Matrix room sends the approved text exactly, as a plain body; a nudge arrives by DM."""

LINE = "We are sorry for the worry & <b>care</b> 😀 电池安全，请放心. Next update at 11:00 on our website."
SECOND = "Update: " + LINE
FAST_NUDGES = {"sev2": {"first_statement": "2h", "update_every": "1h", "approval_nudge": "1s", "review_within": "5d"}}


async def approve(bot, version: str, room: str) -> None:
    """Legal (Bob) approves from his DM, where the request showed the command to type; the commander in the room."""
    dm, request = await bot.direct("bob", f"Draft {version}")
    assert f"!crisis #1 approve {version}" in request["content"]["body"]
    await bot.command("bob", f"#1 approve {version}", dm)
    await bot.command("alice", f"approve {version}", room)


async def test_two_approvals_pin_the_line_v2_edits_it_in_place_and_publish_sends_the_exact_text(matrix_bot):
    bot = matrix_bot
    alice = await bot.user("alice")
    room = await bot.declare()
    [card_id] = await alice.pinned(room)

    await bot.command("carol", f"draft {LINE}", room)
    await approve(bot, "v1", room)
    line = await alice.says(room, "Approved line of #1 — v1", bot.user_id, timeout=30)
    assert LINE in line["content"]["body"]
    assert "&amp; &lt;b&gt;care&lt;/b&gt;" in line["content"].get("formatted_body", "")  # user text escaped in the HTML
    await alice.wait(lambda: _pins(alice, room, [card_id, line["event_id"]]), 30, "the card and the line pinned")

    await bot.command("carol", f"draft {SECOND}", room)
    await approve(bot, "v2", room)
    now_v2 = lambda: "Approved line of #1 — v2" in alice.current(room, line).get("body", "")  # noqa: E731
    await alice.wait(now_v2, 30, "the pinned line edited to v2")
    assert SECOND in alice.current(room, line)["body"]
    edit = alice.edits(room, line["event_id"])[-1]["content"]
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": line["event_id"]}

    await bot.command("carol", "publish matrix-news", room)
    published = await alice.wait(lambda: alice.messages(bot.target_room, bot.user_id), 30, "the post in the news room")
    assert [(m["content"]["msgtype"], m["content"]["body"]) for m in published] == [("m.text", SECOND)]  # byte for byte
    assert not {"format", "formatted_body"} & set(published[0]["content"])  # no markup: the text as approved
    await alice.says(room, "v2 published by Carol Wang to matrix-news", bot.user_id, timeout=30)
    await bot.settled()
    await alice.sync()
    assert sum("Approved line of #1" in body for body in bot.from_bot(alice, room)) == 1  # edited, not posted again
    assert sorted(await alice.pinned(room)) == sorted([card_id, line["event_id"]])
    assert len(alice.messages(bot.target_room, bot.user_id)) == 1


async def test_an_approval_nudge_arrives_by_direct_message_showing_the_commands_to_type(start_matrix_bot):
    bot = await start_matrix_bot(extra={"severities": FAST_NUDGES})
    room = await bot.declare()
    await bot.command("carol", "draft We are sorry for the worry. Next update at 11:00.", room)
    _dm, nudge = await bot.direct("bob", "⏰", timeout=30)
    body = nudge["content"]["body"]
    assert "waited" in body and "v1" in body and "!crisis #1 approve v1" in body and "/crisis" not in body


async def _pins(person, room: str, expected: list[str]) -> bool:
    return sorted(await person.pinned(room)) == sorted(expected)
