"""A drill through the console (in this process, as `onevoice console` runs it): started at one instant, its first inject
appears when the clock reaches it."""

import sqlite3
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import Onevoice

STARTED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_a_drills_first_inject_appears_in_the_room_at_its_offset_and_can_be_answered(onevoice: Onevoice):
    onevoice.env["ONEVOICE_CLOCK_START"] = STARTED.isoformat()
    out = onevoice.type_in("/crisis drill product-quality\n")
    assert "🧪 Drill #1 “PB-20 power banks overheating (lot 2311)” started" in out
    room = "drill-20260302-pb-20-power-banks-overheating-lot-2311"
    assert f"[#{room}] room opened" in out and f"(you are now in #{room})" in out
    assert f"[#{room}] 🧪 This is a drill. Scenario: PB-20 power banks overheating (lot 2311)" in out
    assert "DRILL INJECT" not in out

    # The process is gone; it starts again six minutes into the drill and fires what fell due, as after any restart. (Not
    # 5 min 1 s: the drill started when the first process read its command, seconds after STARTED on a loaded machine.)
    onevoice.env["ONEVOICE_CLOCK_START"] = (STARTED + timedelta(minutes=6)).isoformat()
    out = onevoice.type_in(f":room {room}\n/crisis answer i1 Replied with the holding line\n", as_="carol")
    assert f"[#{room}] 🧪 DRILL INJECT I1 · #1 · +5 min · Social media post\n    @LiWei_Tech · reach 86,000" in out
    assert "[Answered] → /crisis #1 answer i1" in out
    assert "DRILL INJECT I2" not in out  # due at 15 min
    assert "🧪 I1 (Social media post) answered by Carol Wang after less than a minute." in out
    with sqlite3.connect(onevoice.folder / "onevoice.db") as db:
        assert db.execute("select number, answered_by from drillinject where answered_at is not null").fetchall() == [(1, "carol")]
