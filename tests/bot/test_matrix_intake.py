"""Matrix in, against the fake homeserver: `!crisis` commands are decided and answered in their room; the sync token is
stored only once its batch is decided (a restart resumes there, a replayed batch changes nothing); strangers are refused;
invitations are accepted only to configured rooms and from team members; a gap in a timeline is paged in."""

import asyncio

from bot.app import OneVoice
from bot.matrix import sync as matrix_sync
from bot.matrix.sync import load_token
from tests.bot import matrix_world
from tests.bot.matrix_world import CRISIS, NEWS, SPACE, STRANGER, MatrixWorld, notices

fake = matrix_world.fake
world = matrix_world.world


async def test_a_command_in_the_crisis_room_is_answered_there_and_the_token_moves_on_after_it(world, fake):
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev2 Checkout down")]})
    await world.until(lambda: any("Declared #1" in a for a in notices(fake, CRISIS)), what="the answer")
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the token stored")
    created = lambda: any(room.get("name", "").startswith("crisis-") for room in fake.created)  # noqa: E731
    await world.until(created, what="the incident room")  # delivered after the answer, by the outbox
    assert set(fake.joined) >= {CRISIS, SPACE}  # the configured rooms were joined at start


async def test_chatter_and_the_bots_own_messages_are_not_commands(world, fake):
    token = fake.push(
        join={CRISIS: [fake.message("@alice:test", "crisis? what crisis"), fake.message(fake.user_id, "!crisis declare outage sev1 Loop")]}
    )
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    assert fake.said() == [] and fake.created == []


async def test_the_token_is_stored_only_after_the_batchs_events_are_decided(world, fake, monkeypatch):
    deciding, release = asyncio.Event(), asyncio.Event()
    handle = OneVoice.handle

    def slow(bot, command, answer=None):
        asyncio.run_coroutine_threadsafe(_set(deciding), loop)
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
        return handle(bot, command, answer)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(OneVoice, "handle", slow)
    before = load_token(world.bot.engine, fake.user_id)
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis list")]})
    await asyncio.wait_for(deciding.wait(), 10)
    assert load_token(world.bot.engine, fake.user_id) == before  # deciding: the token has not moved
    release.set()
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the token stored")
    assert notices(fake)  # and by then the command was answered


async def _set(event: asyncio.Event) -> None:
    event.set()


async def test_a_failing_event_is_tried_again_from_the_stored_token_and_decided_once(world, fake, monkeypatch):
    monkeypatch.setattr(matrix_sync, "BACKOFF_FIRST", 0.01)
    failures = []
    on_event = world.front.on_event

    async def flaky(room_id, event):
        if event["content"]["body"].endswith("second") and not failures:
            failures.append(event["event_id"])
            raise RuntimeError("the database went away mid-batch")
        return await on_event(room_id, event)

    monkeypatch.setattr(world.front, "on_event", flaky)
    first = fake.message("@dave:test", "!crisis declare outage sev3 first")
    token = fake.push(join={CRISIS: [first, fake.message("@dave:test", "!crisis declare outage sev3 second")]})
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the batch decided")
    declared = [a for a in notices(fake) if a.startswith("Declared")]
    assert len(declared) == 2 and failures  # the first was not declared twice when its batch came again
    assert fake.syncs.count("s0") >= 2  # the batch was fetched again from the stored token


async def test_a_restart_resumes_from_the_stored_token_and_a_replayed_event_changes_nothing(world, fake):
    command = fake.message("@alice:test", "!crisis declare outage sev2 Checkout down")
    token = fake.push(join={CRISIS: [command]})
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the token stored")
    await world.stop()
    second = fake.push(join={CRISIS: [command, fake.message("@alice:test", "!crisis list")]})  # the same event again, and a new one
    asked = len(fake.syncs)
    again = await MatrixWorld(fake, world.bot.engine.url.render_as_string(hide_password=False)).start()
    try:
        await again.until(lambda: len(notices(fake)) >= 2, what="the new command answered")
        assert fake.syncs[asked] == token  # resumed where the first run stopped, not from the present
        await again.until(lambda: load_token(again.bot.engine, fake.user_id) == second, what="the second batch decided")
        await again.bot.deliver()
        assert sum(a.startswith("Declared") for a in notices(fake)) == 1  # not replayed
        assert len([r for r in fake.created if r.get("name", "").startswith("crisis-")]) == 1
    finally:
        await again.stop()
        again.bot.engine.dispose()


async def test_a_stranger_is_refused_in_the_room_and_nothing_is_declared(world, fake):
    fake.push(join={CRISIS: [fake.message(STRANGER, "!crisis declare outage sev1 Forged")]})
    await world.until(lambda: notices(fake), what="the refusal")
    [refusal] = notices(fake, CRISIS)  # Matrix has no private reply in a room, and no direct room with a stranger
    assert STRANGER in refusal and "onevoice.yaml" not in refusal  # one short line: nothing about how the team is set up
    assert fake.created == []


async def test_invitations_are_accepted_from_team_members_to_direct_rooms_and_configured_rooms_only(world, fake):
    me = fake.user_id
    invite = lambda sender, direct: [  # noqa: E731
        {"type": "m.room.member", "state_key": me, "sender": sender, "content": {"membership": "invite", "is_direct": direct}}
    ]
    invited = {"!dm-bob:test": invite("@bob:test", True), "!dm-mallory:test": invite(STRANGER, True)}
    token = fake.push(invite={**invited, "!other:test": invite("@bob:test", False)})  # a member's room that is no DM
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the invitations answered")
    joined = set(fake.joined) - {CRISIS, SPACE, NEWS}  # the configured rooms, joined at start
    assert joined == {"!dm-bob:test"}
    fake.push(join={"!dm-bob:test": [fake.message("@bob:test", "list")]})  # in a direct room, the prefix may be left out
    await world.until(lambda: notices(fake, "!dm-bob:test"), what="the answer in the direct room")


async def test_a_gap_in_a_limited_timeline_is_paged_in_oldest_first(world, fake):
    missed = [fake.message("@alice:test", f"!crisis declare outage sev3 Missed {n}") for n in (1, 2, 3)]
    fake.history[CRISIS] = missed
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis list")]}, limited=[CRISIS])
    await world.until(lambda: len(notices(fake)) >= 4, what="every command answered")
    said = notices(fake)
    assert [a.split("“")[1].split("”")[0] for a in said[:3]] == ["Missed 1", "Missed 2", "Missed 3"]


async def test_a_member_named_by_matrix_id_or_pill_is_that_member(world, fake):
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis declare outage sev3 Checkout slow")]})
    await world.until(lambda: any(a.startswith("Declared") for a in notices(fake)), what="the declaration")
    pill = '!crisis #1 assign exec <a href="https://matrix.to/#/%40bob%3Atest">Bob Li</a>'
    by_pill = fake.message("@alice:test", "!crisis #1 assign exec Bob Li", format="org.matrix.custom.html", formatted_body=pill)
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis #1 assign scribe @erin:test"), by_pill]})
    await world.until(lambda: len(notices(fake)) >= 3, what="both assignments answered")
    said = "\n".join(notices(fake)[1:])
    assert "Erin Liu" in said and "Bob Li" in said and "not a member" not in said


async def test_a_gap_the_server_will_not_page_back_through_does_not_stall_the_loop(world, fake):
    fake.refuse["messages"] = [(400, {"errcode": "M_INVALID_PARAM", "error": "Unknown token"})] * 50  # never
    fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis list")]}, limited=[CRISIS])
    await world.until(lambda: notices(fake), what="the batch's own command answered")
    token = fake.push(join={CRISIS: [fake.message("@alice:test", "!crisis list")]})
    await world.until(lambda: load_token(world.bot.engine, fake.user_id) == token, what="the loop going on")
