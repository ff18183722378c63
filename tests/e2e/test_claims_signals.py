"""Signals and claims over real HTTP: the Track-as-claim button on a triage post, and a signal adding to a claim's reach."""

import asyncio

from handlers.core.ports import Command, RoomRef, UserRef
from tests.e2e.test_signals import LOUD, Instance, encoded


def press(instance: Instance, who: str, text: str, room: str = "triage") -> Command:
    return Command(UserRef("console", who), text, RoomRef("console", room))


async def test_track_as_claim_registers_the_signal_on_the_open_incident(tmp_path):
    async with Instance(tmp_path) as instance:
        await instance.send(encoded(LOUD))
        await instance.bot.deliver()
        assert "[Track as claim] → /crisis claim --signal 1" in instance.out.getvalue()
        alone = await asyncio.to_thread(instance.bot.handle, press(instance, "dave", "claim --signal 1"))
        declared = await asyncio.to_thread(instance.bot.handle, press(instance, "alice", "declare product-quality sev2 Battery hot"))
        assert declared.ok, declared.message.plain()
        tracked = await asyncio.to_thread(instance.bot.handle, press(instance, "dave", "claim --signal 1"))
        twice = await asyncio.to_thread(instance.bot.handle, press(instance, "carol", "claim --signal 1"))
        missing = await asyncio.to_thread(instance.bot.handle, press(instance, "dave", "claim --signal 9"))
        await instance.bot.deliver()
    assert not alone.ok and "No incident is open, so signal 1 cannot be tracked as a claim." in alone.message.plain()
    assert tracked.ok, tracked.message.plain()
    assert "C1 logged by Dave Zhang: “PowerMax 20 overheating videos spreading”" in tracked.message.plain()
    assert "https://example.com/mentions/1" in tracked.message.plain() and "Reach 1,800." in tracked.message.plain()
    assert not twice.ok and "Signal 1 is tracked already, as C1 in #1." in twice.message.plain()
    assert not missing.ok and "There is no signal 9." in missing.message.plain()
    edited = instance.out.getvalue().rsplit("[#triage] (message updated)", 1)[1]
    assert "Tracked as C1 in #1." in edited and "Track as claim" not in edited.split("\n[#", 1)[0]  # its button is gone
    room_posts = [line for line in instance.out.getvalue().splitlines() if line.startswith("[#crisis-")]
    assert any("C1 logged by Dave Zhang" in line for line in room_posts)  # the incident's room hears it too


async def test_someone_outside_the_team_cannot_track_a_signal(tmp_path):
    async with Instance(tmp_path) as instance:
        await instance.send(encoded(LOUD))
        assert (await asyncio.to_thread(instance.bot.handle, press(instance, "alice", "declare product-quality sev2 Battery"))).ok
        refused = await asyncio.to_thread(instance.bot.handle, press(instance, "zed", "claim --signal 1"))
    assert not refused.ok and "You are not in the team model yet" in refused.message.plain()


async def test_a_signal_naming_a_claim_adds_its_volume_to_the_reach_and_may_start_the_deadline(tmp_path):
    async with Instance(tmp_path) as instance:
        handle = instance.bot.handle
        assert (await asyncio.to_thread(handle, press(instance, "alice", "declare product-quality sev2 Battery overheating"))).ok
        await instance.bot.deliver()
        room = instance.out.getvalue().split("[#crisis-", 1)[1].split("]", 1)[0]
        assert (await asyncio.to_thread(handle, press(instance, "dave", "claim Batteries explode reach 600", f"crisis-{room}"))).ok
        assert (await asyncio.to_thread(handle, press(instance, "bob", "verify c1 false", f"crisis-{room}"))).ok
        status, _answer = await instance.send(encoded({**LOUD, "volume": 500, "incident": 1, "claim": "c1"}))
        repeat, _answer = await instance.send(encoded({**LOUD, "volume": 800, "incident": 1, "claim": "c1"}))
        bad, answer = await instance.send(encoded({**LOUD, "dedup_key": "x", "incident": 1, "claim": "c1; drop"}))
        missing, _answer = await instance.send(encoded({**LOUD, "dedup_key": "y", "volume": 70, "incident": 1, "claim": "c9"}))
        listing = await asyncio.to_thread(handle, press(instance, "erin", "claims", f"crisis-{room}"))
        await instance.bot.deliver()
    assert (status, repeat, bad, missing) == (202, 202, 422, 202)
    printed = instance.out.getvalue()
    assert "Signal 1 (brandwatch) adds 500 to the reach of C1, now 1,100." in printed
    assert "Signal 1 (brandwatch) adds 300 to the reach of C1, now 1,400." in printed  # a repeat adds only what grew
    assert "C1 [false] “Batteries explode” — reach 1,400;" in listing.message.plain()
    assert "names C9, which #1 does not have: its reach was not added to any claim." in printed  # said, not dropped unseen
    assert "1 false and unanswered" in listing.message.plain()
    assert "📌 card updated" in printed.split("adds 500 to the reach of C1", 1)[1]  # the card is redrawn with the new counts


async def test_an_absurd_volume_is_capped_and_a_closed_incidents_claim_is_left_alone(tmp_path):
    async with Instance(tmp_path) as instance:
        handle = instance.bot.handle
        assert (await asyncio.to_thread(handle, press(instance, "alice", "declare product-quality sev2 Battery overheating"))).ok
        await instance.bot.deliver()
        room = "crisis-" + instance.out.getvalue().split("[#crisis-", 1)[1].split("]", 1)[0]
        assert (await asyncio.to_thread(handle, press(instance, "dave", "claim Batteries explode", room))).ok
        status, _answer = await instance.send(encoded({**LOUD, "volume": 1e300, "incident": 1, "claim": "c1"}))
        listing = await asyncio.to_thread(handle, press(instance, "erin", "claims", room))
        assert (await asyncio.to_thread(handle, press(instance, "alice", "resolve contained", room))).ok
        assert (await asyncio.to_thread(handle, press(instance, "alice", "close --force test", room))).ok
        late, _answer = await instance.send(encoded({**LOUD, "dedup_key": "late", "volume": 5, "incident": 1, "claim": "c1"}))
        after = await asyncio.to_thread(handle, press(instance, "erin", "claims", room))
    assert status == 202 and late == 202
    assert "reach 1,000,000,000,000;" in listing.message.plain()
    assert "reach 1,000,000,000,000;" in after.message.plain()  # closed: the late signal changed nothing
