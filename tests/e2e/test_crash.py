"""SIGKILL a replica in the middle of delivery, ten rounds (two tests of five, so the two workers share them): no reminder
is lost, and a double is only the one in flight.

Two `onevoice run` replicas on PostgreSQL share a slow fake Slack (each message takes 0.1 s to be answered). A replica
killed between Slack doing a call and the bot recording it leaves that one effect to be sent again by whoever takes over
its lease: OneVoice delivers at least once, and the window is one call in flight per killed replica. The test counts the
doubles and holds them to that bound; bench/replicas.py runs 100 rounds and prints the figures. The rounds overlap (the
next one starts while the last victim restarts, tests/e2e/crash_rounds.py) and each replica looks for the reminders the
test seeds every second (ONEVOICE_TICK_SECONDS) rather than every 15 s.
"""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import private_schema
from tests.e2e.crash_rounds import run_rounds
from tests.e2e.replicas import Replicas, team_config

ROUNDS, PEOPLE = 5, 40  # per test: ten in all (the longest test of the suite was these ten in a row, 146 s on a busy machine)
LEASE = "6"  # seconds: how soon a dead replica's claims are free for the other one (renewed every 2 s while alive)
TICK = "1"  # seconds: how soon a replica finds the reminders the test seeds straight into the database


@pytest.mark.parametrize("half", [1, 2])
async def test_ten_sigkills_mid_delivery_lose_nothing(tmp_path, half):
    # the real clock: with ONEVOICE_CLOCK_START each process's clock would start anew, and a replica restarted later would
    # run behind the other one, which would then find a repeat reminder due early
    with private_schema() as (engine, url):
        config = team_config(tmp_path, PEOPLE)
        async with Replicas(tmp_path, url, config, None, env={"ONEVOICE_LEASE_SECONDS": LEASE, "ONEVOICE_TICK_SECONDS": TICK}) as replicas:
            replicas.fake.latency["chat.postMessage"] = 0.1
            await replicas.start(2)
            tally = await run_rounds(replicas, engine, ROUNDS, PEOPLE, datetime.now(UTC) - timedelta(minutes=5))
            print(f"half {half}, {ROUNDS} SIGKILLs: {tally.due} due, {len(tally.lost)} lost, {len(tally.doubled)} twice {tally.doubled}")
            assert tally.lost == []  # nothing acknowledged is lost
            assert len(tally.doubled) <= ROUNDS  # at most the one call in flight when a replica died
