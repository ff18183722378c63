"""The harness itself: a real Synapse starts, the team can talk in a room, and its rate limiter bites who it should."""

import aiohttp

from tests.e2e.matrix.matrix_client import MatrixError, MatrixUser


async def test_synapse_runs_and_two_team_members_talk_in_a_room(homeserver):
    alice, bob = homeserver.people["alice"], homeserver.people["bob"]
    async with aiohttp.ClientSession() as http:
        a, b = MatrixUser(homeserver.synapse.url, alice, http), MatrixUser(homeserver.synapse.url, bob, http)
        await b.catch_up()
        room = await a.create_room("Harness check", invite=(bob.user_id,))
        await b.invited_to(lambda r, _state: r == room, what="Alice's invite")
        await b.join(room)
        await a.send(room, "电池 😀 <b>&</b>")
        said = await b.says(room, "电池", sender=alice.user_id)
        assert said["content"] == {"msgtype": "m.text", "body": "电池 😀 <b>&</b>"}
        assert (await a.members(room)) == {alice.user_id: "join", bob.user_id: "join"}


async def test_a_limited_user_is_answered_429_with_retry_after_and_an_exempt_one_is_not(homeserver):
    synapse = homeserver.synapse
    limited = synapse.register(synapse.fresh("limited"), limited=True)
    async with aiohttp.ClientSession() as http:
        fast, slow = MatrixUser(synapse.url, homeserver.people["carol"], http), MatrixUser(synapse.url, limited, http)
        room = await fast.create_room("Limits check", preset="public_chat")
        await slow.join(room, history=False)
        refusals = []
        for n in range(synapse.limits.burst + 3):
            await fast.send(room, f"exempt {n}")
            try:
                await slow.send(room, f"limited {n}")
            except MatrixError as error:
                refusals.append(error)
    assert refusals and all(r.status == 429 and r.answer["errcode"] == "M_LIMIT_EXCEEDED" for r in refusals)
    assert all(r.answer["retry_after_ms"] > 0 for r in refusals)
    assert synapse.limited_answers(limited.user_id) == len(refusals) and synapse.limited_answers("@carol:localhost") == 0
