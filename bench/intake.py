"""SIGKILL at intake on the Slack paths: acknowledged / lost (must be 0) / doubled, over many rounds (issue 14).

Two `onevoice run` replicas on a fresh PostgreSQL schema behind the fake Slack on loopback. Each round sends one signed
request to one replica — a click on an overdue-item reminder's Done button by the item's owner (half the rounds), or a
slash command adding a checklist item (the other half) — and SIGKILLs that replica at a random moment from when the
request leaves until a few milliseconds after a typical answer (a staircase keeps about half the kills on each side of
the answer); it is restarted while the next round goes to the other replica. At the end `/crisis tasks all` is asked, as a user would,
and each request is judged: answered 200 and its effect there (acknowledged), answered 200 and no effect (lost), effect
twice (doubled). Requests that got no 200 may have taken effect or not: Slack showed the user a failure.
A round costs about one replica start (1.5-2 s on an idle machine; far more on a busy one).
Run: python bench/intake.py [--rounds 200] [--seed 14]   (needs the test PostgreSQL, as the tests do)
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import private_schema  # noqa: E402
from tests.e2e.intake_rounds import intake_team, run_intake_rounds  # noqa: E402
from tests.e2e.replicas import Replicas  # noqa: E402

LEASE = "4"  # seconds before a killed replica's claimed effects are free for the other one
ENV = {"ONEVOICE_LEASE_SECONDS": LEASE, "ONEVOICE_TICK_SECONDS": "1"}  # ticks: the seeded reminders are found within a second


async def run(rounds: int, seed: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix="onevoice-intake-"))
    started = time.monotonic()
    with private_schema() as (engine, url):
        async with Replicas(folder, url, intake_team(folder, rounds // 2), None, env=ENV) as replicas:
            await replicas.start(2)
            slash, button, rig = await run_intake_rounds(replicas, engine, rounds // 2, seed)
            await replicas.stop()
    print(f"{rounds} rounds of SIGKILL at intake, 2 replicas on PostgreSQL, in {time.monotonic() - started:.0f} s")
    for tally in (slash, button):
        print(tally.line())
    acknowledged = len(slash.acknowledged) + len(button.acknowledged)
    lost, doubled = len(slash.lost) + len(button.lost), len(slash.doubled) + len(button.doubled)
    print(f"total : acknowledged {acknowledged} / lost {lost} (must be 0) / doubled {doubled}")
    missing, twice = len(button.unanswered), len(button.answered_twice)
    print(f"answers to clicks: {missing} acknowledged and never answered (must be 0), {twice} sent twice")
    for path, latencies in rig.latencies.items():
        print(
            f"{path} answer time unharmed: median {statistics.median(latencies) * 1000:.0f} ms; kill window median "
            f"{statistics.median(rig.windows[path]) * 1000:.0f} ms"
        )
    boots = [boot for boot, _first in rig.restarts]
    print(f"replica restarts: {len(boots)}, median {statistics.median(boots):.1f} s to boot")
    return 1 if lost or button.unanswered else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200, help="rounds in all, half slash commands and half button clicks")
    parser.add_argument("--seed", type=int, default=14, help="the random kill moments")
    args = parser.parse_args()
    return asyncio.run(run(args.rounds, args.seed))


if __name__ == "__main__":
    sys.exit(main())
