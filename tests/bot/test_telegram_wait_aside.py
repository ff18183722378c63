"""An outbox row for a Telegram group whose budget is spent (20 messages a minute) waits aside: the batch's other lanes,
a DM say, go meanwhile; it goes once the budget refills (bot/telegram/limits.py, bot/outbox/lanes.py)."""

import asyncio

from bot.outbox.lanes import deliver_side_by_side
from storage.db import make_engine
from tests.bot.test_delivery_lanes import row
from tests.bot.test_telegram_group_pace import GROUP, PERSON, limiter_of, loop, send  # noqa: F401  (loop: the fixture)


def test_a_dm_goes_while_a_group_post_waits_for_the_groups_budget(loop):  # noqa: F811
    limiter = limiter_of(20)
    send(limiter, loop, GROUP, 20)  # the group's minute is spent
    went: list[int] = []

    async def step(_session, one) -> int:
        async def sent(*_args, **_kwargs) -> bool:
            went.append(one.id)
            return True

        chat = GROUP if one.id == 1 else PERSON
        await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": chat}, None)
        return 1

    async def batch() -> int:
        rows = [row(1, 7), row(2, 7, "dm", "dm:bob")]  # the group post first, then a DM of the same incident
        going = asyncio.ensure_future(deliver_side_by_side(make_engine("sqlite://"), rows, step))
        for _ in range(200):
            if went:
                break
            await asyncio.sleep(0)
        assert went == [2]  # the DM went; the group post still waits (no time has passed)
        loop.now += 60  # the group's budget refills
        return await going

    assert loop.run_until_complete(batch()) == 2
    assert went == [2, 1]


def test_a_group_post_waiting_for_the_budget_stops_waiting_when_its_batch_fails(loop):  # noqa: F811
    limiter = limiter_of(20)
    send(limiter, loop, GROUP, 20)  # the group's minute is spent: a refill is 3 s away
    went: list[int] = []

    async def step(_session, one) -> int:
        if one.id == 2:
            raise OSError("the database went away")  # the other lane's row fails while the group post waits

        async def sent(*_args, **_kwargs) -> bool:
            went.append(one.id)
            return True

        await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": GROUP}, None)
        return 1

    async def batch() -> bool:
        going = asyncio.ensure_future(deliver_side_by_side(make_engine("sqlite://"), [row(1, 7), row(2, 8)], step))
        for _ in range(50):
            await asyncio.sleep(0)
        loop.now += 0.2  # one look at the budget later, long before it refills
        for _ in range(200):
            if going.done():
                break
            await asyncio.sleep(0)
        done = going.done()
        loop.now += 60  # let a stray wait end, whatever happened
        try:
            await going
        except OSError:
            pass
        return done

    assert loop.run_until_complete(batch())  # the batch ended without waiting a minute for the group's budget
    assert went == []  # and the group post was not sent: handed back with its batch
