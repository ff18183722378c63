"""SIGKILL at intake, through real processes: a Slack request answered 200 is never lost (issue 14).

Two `onevoice run` replicas on PostgreSQL behind the fake Slack; ten rounds of a button click (each by the clicked
item's owner) and ten of a signed slash command, the receiving replica SIGKILLed at a random moment between sending and
a few milliseconds after a typical answer (tests/e2e/intake_rounds.py). Every request that got a 200 has its effect
exactly once, as `/crisis tasks all` shows it; bench/intake.py runs 200 rounds.
"""

from tests.conftest import private_schema
from tests.e2e.intake_rounds import intake_team, run_intake_rounds
from tests.e2e.replicas import Replicas

ROUNDS = 10
LEASE = "4"  # seconds: how soon a killed replica's claimed answers are free for the other one
TICK = "1"  # seconds: how soon a replica finds the reminders the test seeds straight into the database


async def test_a_slack_request_answered_200_survives_its_replica_being_killed(tmp_path):
    with private_schema() as (engine, url):
        async with Replicas(
            tmp_path, url, intake_team(tmp_path, ROUNDS), None, env={"ONEVOICE_LEASE_SECONDS": LEASE, "ONEVOICE_TICK_SECONDS": TICK}
        ) as replicas:
            await replicas.start(2)
            slash, button, rig = await run_intake_rounds(replicas, engine, ROUNDS)
            for path, windows in rig.windows.items():
                print(f"{path} kill windows (ms):", [round(w * 1000) for w in windows])
            print(slash.line())
            print(button.line())
            print("restarts (boot s, first answer s):", [(round(a, 1), round(b, 2)) for a, b in rig.restarts])
            print("seconds:", {part: round(seconds, 1) for part, seconds in rig.seconds.items()})
            for tally in (slash, button):
                assert tally.lost == [] and tally.doubled == [], tally  # nothing acknowledged is lost, nothing happens twice
                assert tally.acknowledged and tally.unacknowledged, tally  # the kills fell on both sides of the answer
            assert button.unanswered == []  # a click's answer (no ack can carry it) reached its clicker all the same
            assert len(button.answered_twice) <= ROUNDS  # at most the one answer in flight when a replica died
            await replicas.stop()
