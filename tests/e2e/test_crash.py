"""SIGKILL a replica in the middle of delivery, ten rounds (two tests of five, so the two workers share them): no reminder
is lost, and a double is only the one in flight.

Two `onevoice run` replicas on PostgreSQL share a slow fake Slack (each message takes 0.1 s to be answered). A replica
killed between Slack doing a call and the bot recording it leaves that one effect to be sent again by whoever takes over
its lease: OneVoice delivers at least once, and the window is one call in flight per killed replica. The test counts the
doubles and holds them to that bound; bench/replicas.py runs 100 rounds and prints the figures. The rounds overlap (the
next one starts while the last victim restarts, tests/e2e/crash_rounds.py) and each replica looks for the reminders the
test seeds every second (ONEVOICE_TICK_SECONDS) rather than every 15 s. A round is twelve reminders (bench/replicas.py's
are 24): a round mostly waits for the replica woken for it to deliver what the last round left before it fires the new
ones, so its length grows with its size; twelve are enough for a kill to find some sent, some claimed, some not yet.
"""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import private_schema
from tests.e2e.crash_rounds import run_rounds
from tests.e2e.replicas import Replicas, team_config

ROUNDS, PER_ROUND = 5, 12  # per test: ten rounds in all (the suite's longest test was these ten in a row, 146 s when busy)
PEOPLE = 40
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
            tally = await run_rounds(replicas, engine, ROUNDS, PEOPLE, datetime.now(UTC) - timedelta(minutes=5), PER_ROUND)
            print(f"half {half}, {ROUNDS} SIGKILLs: {tally.due} due, {len(tally.lost)} lost, {len(tally.doubled)} twice {tally.doubled}")
            assert tally.lost == []  # nothing acknowledged is lost
            assert len(tally.doubled) <= ROUNDS  # at most the one call in flight when a replica died
